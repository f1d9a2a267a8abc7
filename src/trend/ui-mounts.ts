import type { RequestHandler, Response } from 'express';
import { Router } from 'express';
import type { TrendLinkPublisher } from '../cds/service.js';
import { createDemoRouter, FLOWSHEET_LIMITS_PATH } from '../demo/demo-router.js';
import { createSecurityHeaders } from '../http/security-headers.js';
import { InMemoryTrendLinkStore, type TrendLinkStore } from '../stores/trend-link-store.js';
import { ASSETS_PATH, createAssetsRouter } from './assets-router.js';
import { createTrendLinkPublisher, TRENDS_PATH } from './publisher.js';
import { createTrendRouter } from './trend-router.js';
import type { TrendSnapshot } from './trend-snapshot.js';

export interface UiMountsOptions {
  /** PUBLIC_BASE_URL, or a function when the port is only known after listen (tests). */
  publicBaseUrl: string | (() => string);
  /** TREND_LINK_TTL_SECONDS */
  trendLinkTtlSeconds: number;
  /** Serve the demo EHR at `/` (only with the embedded FHIR server and its demo patients). */
  demo: boolean;
  store?: TrendLinkStore<TrendSnapshot>;
}

export interface UiMounts {
  trendLinks: TrendLinkPublisher;
  routers: { path: string; router: RequestHandler }[];
  /** Start-up banner lines. */
  banner: (baseUrl: string) => string[];
}

/** Everything the HTML side of the service adds to `createApp`: the trend-link publisher and its mounts. */
export function createUiMounts(options: UiMountsOptions): UiMounts {
  // The default bound is by bytes (16 MiB): a 13-draw snapshot of six analytes is about 4 kB of JSON.
  const store = options.store ?? new InMemoryTrendLinkStore<TrendSnapshot>();
  const trendLinks = createTrendLinkPublisher({
    store,
    publicBaseUrl: options.publicBaseUrl,
    ttlMs: options.trendLinkTtlSeconds * 1000,
  });
  // The JSON API runs without a CSP; these HTML routes get helmet's, which allows same-origin only.
  const helmetHeaders = createSecurityHeaders();
  const securityHeaders: RequestHandler = (req, res, next) => {
    helmetHeaders(req, res, (error?: unknown) => {
      dropUpgradeInsecureRequests(res);
      next(error);
    });
  };
  const withHeaders = (router: RequestHandler): RequestHandler => {
    const wrapped = Router();
    wrapped.use(securityHeaders, router);
    return wrapped;
  };
  const routers = [
    { path: TRENDS_PATH, router: withHeaders(createTrendRouter({ store })) },
    { path: ASSETS_PATH, router: withHeaders(createAssetsRouter({ includeDemo: options.demo })) },
  ];
  if (options.demo) {
    routers.push({ path: '/', router: withDemoHeaders(createDemoRouter(), securityHeaders) });
  }
  return {
    trendLinks,
    routers,
    banner: (baseUrl) => (options.demo ? [`Demo EHR: ${baseUrl.replace(/\/+$/, '')}/`] : []),
  };
}

/**
 * helmet's default `upgrade-insecure-requests` makes the browser fetch every same-origin script over
 * https when the page was served over plain HTTP from a non-localhost name (a container on a LAN
 * host), and the pages break. They load only relative, same-origin URLs, so the directive adds
 * nothing here and is removed.
 */
function dropUpgradeInsecureRequests(res: Response): void {
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp === 'string') {
    const directives = csp.split(';').filter((d) => d.trim() !== 'upgrade-insecure-requests');
    res.setHeader('Content-Security-Policy', directives.join(';'));
  }
}

/** The demo is mounted at `/`, so its headers apply to `GET /` only, not to every path below it. */
function withDemoHeaders(router: RequestHandler, securityHeaders: RequestHandler): RequestHandler {
  const wrapped = Router();
  wrapped.get('/', securityHeaders, router);
  wrapped.post(FLOWSHEET_LIMITS_PATH, router);
  return wrapped;
}
