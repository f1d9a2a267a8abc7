import type { RequestHandler } from 'express';

/*
 * CORS for browser-based CDS clients (e.g. the CDS Hooks sandbox). The spec leaves the policy to the
 * implementer; hooks carry no cookies (the client authenticates with a bearer JWT), so any origin may
 * call and credentials are never allowed.
 * @see https://cds-hooks.hl7.org/2.0/#cross-origin-resource-sharing
 */

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, X-Request-Id';
const EXPOSED_HEADERS = 'X-Request-Id, Location, Content-Location';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function createCors(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
      res.status(204).end();
      return;
    }
    next();
  };
}
