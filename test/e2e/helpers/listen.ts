import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express } from 'express';
import { createEmbeddedFhirServer } from '../../../src/fhir-server/index.js';
import type { DemoPatient } from '../../../src/fhir-server/index.js';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on an ephemeral loopback port. */
export async function listen(app: Express): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface RunningFhirServer extends RunningServer {
  /** The FHIR base URL, e.g. `http://127.0.0.1:41234/fhir`. */
  base: string;
  demoPatients: DemoPatient[];
  /** Every request the FHIR server received: method, URL and whether it carried which Authorization. */
  requests: { method: string; url: string; authorization: string | undefined }[];
}

/**
 * Starts the embedded FHIR server on its own ephemeral port. The port is only known after listening, and
 * paging links embed it, so the handler is mounted once the address is known.
 */
export async function startEmbeddedFhirServer(
  opts: { now?: Date; seedDemo?: boolean } = {},
): Promise<RunningFhirServer> {
  const app = express();
  const requests: RunningFhirServer['requests'] = [];
  app.use((req, _res, next) => {
    requests.push({
      method: req.method,
      url: req.originalUrl,
      authorization: req.headers.authorization,
    });
    next();
  });
  const running = await listen(app);
  const base = `${running.url}/fhir`;
  const fhir = await createEmbeddedFhirServer({
    baseUrl: base,
    now: opts.now ?? new Date(),
    seedDemo: opts.seedDemo,
  });
  app.use('/fhir', fhir.handler);
  return { ...running, base, demoPatients: fhir.demoPatients, requests };
}
