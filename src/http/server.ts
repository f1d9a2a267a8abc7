import { createServer, type RequestListener, type Server } from 'node:http';

export interface HttpServerLimits {
  /** A client has this long to send the request headers (slow-loris guard). */
  headersTimeoutMs: number;
  /** A client has this long to send the whole request, body included. */
  requestTimeoutMs: number;
}

/**
 * The HTTP server the service listens with. Node checks these timeouts on a timer of its own
 * (30 s by default), which would let a slow client hold a socket far past them: check often enough
 * to honour them within a fraction of the shorter one.
 */
export function createHttpServer(handler: RequestListener, limits: HttpServerLimits): Server {
  const requestTimeout = limits.requestTimeoutMs;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(limits.headersTimeoutMs, requestTimeout);
  return createServer(
    {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    handler,
  );
}
