import express, { Router } from 'express';
import { DEMO_PUBLIC_DIR, TREND_PUBLIC_DIR, VENDOR_FILES } from './static-paths.js';

export interface AssetsRouterOptions {
  /** Serve the demo EHR's scripts too (only when the embedded FHIR server, and so the demo, is on). */
  includeDemo: boolean;
}

/** Path under which `createAssetsRouter` is mounted; pages refer to it relatively. */
export const ASSETS_PATH = '/assets';

const STATIC_OPTIONS = { index: false, fallthrough: true, maxAge: '1h', dotfiles: 'deny' } as const;

/**
 * Same-origin scripts and styles for the trend page and the demo EHR, so the default
 * `script-src 'self'` content security policy holds and no CDN is needed.
 */
export function createAssetsRouter(options: AssetsRouterOptions): Router {
  const router = Router();
  router.get('/vendor/:file', (req, res, next) => {
    const path = Object.hasOwn(VENDOR_FILES, req.params.file)
      ? VENDOR_FILES[req.params.file]
      : undefined;
    if (path === undefined) {
      next();
      return;
    }
    res.type('text/javascript').sendFile(path, { maxAge: '1h' });
  });
  router.use('/trend', express.static(TREND_PUBLIC_DIR, STATIC_OPTIONS));
  if (options.includeDemo) {
    router.use('/demo', express.static(DEMO_PUBLIC_DIR, STATIC_OPTIONS));
  }
  return router;
}
