import { Server as NetServer, type Socket } from 'node:net';
import type { Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** How long in-flight requests may take before their sockets are cut. */
  graceMs: number;
  /**
   * How long a keep-alive socket must have been quiet before it is closed during shutdown. A
   * client that reuses the socket within it gets a `Connection: close` answer instead of a reset.
   */
  idleGraceMs?: number;
  logger?: Logger;
  /** Released after the HTTP server has closed (e.g. the embedded FHIR server). */
  onClosed?: () => Promise<void>;
}

export type ShutdownResult = 'graceful' | 'forced';

interface SocketState {
  inFlight: number;
  idleSince: number;
  bytesReadWhenIdle: number;
  /** Sweeps in a row that found the socket quiet; see `sweep`. */
  quietSweeps: number;
}

const DEFAULT_IDLE_GRACE_MS = 500;
const SWEEP_MS = 25;
const QUIET_SWEEPS = 3;

/**
 * Returns a function that stops the server the way an orchestrator expects on SIGTERM: refuse new
 * connections, answer every in-flight request (and any request still arriving on an open
 * keep-alive socket) with `Connection: close`, close sockets once they have been quiet for
 * `idleGraceMs`, and cut everything once `graceMs` passes. Create it as soon as the server
 * listens: sockets opened before are only closed by Node's idle sweep. Calling the returned
 * function again returns the same promise.
 */
export function createShutdown(
  server: Server,
  options: ShutdownOptions,
): (signal: string) => Promise<ShutdownResult> {
  const idleGraceMs = options.idleGraceMs ?? DEFAULT_IDLE_GRACE_MS;
  const sockets = new Map<Socket, SocketState>();
  const inFlight = new Set<ServerResponse>();
  let closing = false;

  server.on('connection', (socket: Socket) => {
    sockets.set(socket, {
      inFlight: 0,
      idleSince: performance.now(),
      bytesReadWhenIdle: 0,
      quietSweeps: 0,
    });
    socket.once('close', () => sockets.delete(socket));
  });
  // Prepended so the header is set before any handler can send the response.
  server.prependListener('request', (req, res) => {
    const state = sockets.get(req.socket);
    if (state !== undefined) {
      state.inFlight += 1;
    }
    inFlight.add(res);
    if (closing) {
      res.setHeader('Connection', 'close');
    }
    res.once('close', () => {
      inFlight.delete(res);
      if (state !== undefined) {
        state.inFlight -= 1;
        state.idleSince = performance.now();
        state.bytesReadWhenIdle = req.socket.bytesRead;
      }
    });
  });

  const run = async (signal: string): Promise<ShutdownResult> => {
    options.logger?.info({ signal, graceMs: options.graceMs }, 'shutting down');
    closing = true;
    const started = performance.now();
    for (const res of inFlight) {
      if (!res.headersSent) {
        res.setHeader('Connection', 'close');
      }
    }
    let forced = false;
    // net's close stops accepting but, unlike http's, does not drop idle keep-alive sockets at once:
    // a request already on its way over one of them would be reset.
    const closed = new Promise<void>((resolve) => {
      NetServer.prototype.close.call(server, () => resolve());
    });
    // Timers run before the loop reads sockets, so after a stalled loop a request may already wait
    // unread in the kernel: a socket is closed only once several sweeps in a row, with reads
    // between them, found it quiet.
    const sweep = () => {
      const now = performance.now();
      for (const [socket, state] of sockets) {
        if (state.inFlight > 0 || socket.bytesRead !== state.bytesReadWhenIdle) {
          // Busy, or a request is arriving: it will be answered with Connection: close.
          state.bytesReadWhenIdle = socket.bytesRead;
          state.idleSince = now;
          state.quietSweeps = 0;
        } else if (++state.quietSweeps >= QUIET_SWEEPS && now - state.idleSince >= idleGraceMs) {
          socket.destroy();
        }
      }
      if (sockets.size === 0 && now - started >= idleGraceMs) {
        // Only sockets opened before this function existed are left (untracked): Node's own sweep.
        server.closeIdleConnections();
      }
    };
    const sweeper = setInterval(sweep, SWEEP_MS);
    const deadline = new Promise<void>((resolve) => {
      setTimeout(() => {
        forced = true;
        server.closeAllConnections();
        resolve();
      }, options.graceMs).unref();
    });
    await Promise.race([closed, deadline]);
    clearInterval(sweeper);
    try {
      await options.onClosed?.();
    } catch (err) {
      options.logger?.error({ err }, 'error while releasing resources at shutdown');
    }
    const result: ShutdownResult = forced ? 'forced' : 'graceful';
    options.logger?.info({ result }, 'stopped');
    return result;
  };

  let pending: Promise<ShutdownResult> | undefined;
  return (signal) => {
    pending ??= run(signal);
    return pending;
  };
}
