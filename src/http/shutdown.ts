import type { Server } from 'node:http';
import type { Logger } from 'pino';

export interface ShutdownOptions {
  /** How long in-flight requests may take before their sockets are cut. */
  graceMs: number;
  logger?: Logger;
  /** Released after the HTTP server has closed (e.g. the embedded FHIR server). */
  onClosed?: () => Promise<void>;
}

export type ShutdownResult = 'graceful' | 'forced';

/**
 * Returns a function that stops the server the way an orchestrator expects on SIGTERM: refuse new
 * connections, let in-flight requests finish, drop idle keep-alive sockets (which would otherwise
 * hold `close()` open for the client's idle timeout), and cut everything once `graceMs` passes.
 * Calling it again returns the same promise.
 */
export function createShutdown(
  server: Server,
  options: ShutdownOptions,
): (signal: string) => Promise<ShutdownResult> {
  let pending: Promise<ShutdownResult> | undefined;

  const run = async (signal: string): Promise<ShutdownResult> => {
    options.logger?.info({ signal, graceMs: options.graceMs }, 'shutting down');
    let forced = false;
    const closed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    server.closeIdleConnections();
    // A socket that finishes its response becomes idle only afterwards; keep sweeping.
    const sweeper = setInterval(() => {
      server.closeIdleConnections();
    }, 50);
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

  return (signal) => {
    pending ??= run(signal);
    return pending;
  };
}
