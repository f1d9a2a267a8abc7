import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnService, type ServiceProcess } from '../../../scripts/spawn-service.js';
import { buildPatientViewBody } from './hook-fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FHIR_DELAY_MS = 800;

/** A FHIR server that answers every request with an empty searchset after a delay. */
async function startSlowFhir(): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    setTimeout(() => {
      res
        .writeHead(200, { 'content-type': 'application/fhir+json' })
        .end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
    }, FHIR_DELAY_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/fhir`, hits: () => hits, server };
}

async function startService(): Promise<{ child: ServiceProcess; url: string }> {
  const { child, listening } = spawnService({
    command: `${ROOT}node_modules/.bin/tsx`,
    args: [`${ROOT}src/main.ts`],
    cwd: ROOT,
  });
  return { child, url: `http://127.0.0.1:${await listening}` };
}

describe('the service process on SIGTERM', () => {
  it('When SIGTERM arrives while a hook call waits on the FHIR server, the call completes, new connections are refused and the process exits 0', async () => {
    const fhir = await startSlowFhir();
    const { child, url } = await startService();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const inFlight = fetch(`${url}/cds-services/liver-trends`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(buildPatientViewBody({ fhirServer: fhir.url })),
      });
      while (fhir.hits() === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();

      const res = await inFlight;
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      await expect(res.json()).resolves.toEqual(expect.any(Object));
      await expect(exited).resolves.toBe(0);
    } finally {
      child.kill('SIGKILL');
      fhir.server.closeAllConnections();
      await new Promise((resolve) => fhir.server.close(resolve));
    }
  });
});
