import type { RequestHandler } from 'express';
import helmet from 'helmet';

export interface SecurityHeadersOptions {
  /**
   * Extra CSP directives merged over the defaults, e.g. for the demo pages. A route may also set
   * its own `Content-Security-Policy` header after this middleware; the last value set wins.
   */
  cspDirectives?: Record<string, string[]>;
}

/**
 * helmet with a CSP that allows same-origin scripts, styles and images (the demo and trend pages
 * ship their own bundles) and nothing from elsewhere. The JSON API is meant to be called from
 * other origins (EHRs, the CDS Hooks sandbox), so the resource policy is cross-origin; CORS
 * itself is decided by the CORS middleware.
 */
export function createSecurityHeaders(options: SecurityHeadersOptions = {}): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'frame-ancestors': ["'self'"],
        // Pages are also served over plain HTTP on a LAN; upgrading their same-origin URLs breaks them.
        'upgrade-insecure-requests': null,
        ...options.cspDirectives,
      },
    },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
}
