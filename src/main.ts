import type { Server } from 'node:http';
import { assembleService } from './assemble-service.js';
import { loadConfig, loadDotEnvFile, type Config } from './config.js';
import { createHttpServer } from './http/server.js';
import { createShutdown } from './http/shutdown.js';

/*
 * Process entry point: configuration → the assembled service → HTTP server. The tests and the
 * benchmarks build the service through assembleService like this file.
 */

function loadConfigOrExit(): { config: Config; dotEnv: boolean } {
  try {
    const dotEnv = loadDotEnvFile();
    return { config: loadConfig(process.env), dotEnv };
  } catch (error) {
    process.stderr.write(
      `Configuration error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const { config, dotEnv } = loadConfigOrExit();
  const { app, logger, banner, close } = await assembleService(config);

  const server: Server = createHttpServer(app, {
    headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  server.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  const lines = [
    `Hepatic Trends CDS listening on ${config.HOST}:${port}`,
    `CDS Hooks discovery: ${config.PUBLIC_BASE_URL}/cds-services`,
    ...(dotEnv
      ? ['Settings read from .env (variables set in the environment take precedence)']
      : []),
    ...banner,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  // Drain in-flight requests on SIGTERM/SIGINT; cut what is left after 10 s.
  const stop = createShutdown(server, { graceMs: 10_000, logger });
  const shutdown = (signal: NodeJS.Signals) => {
    void stop(signal)
      .then(async (result) => {
        await close().catch(() => undefined);
        return result;
      })
      .then((result) => process.exit(result === 'graceful' ? 0 : 1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
