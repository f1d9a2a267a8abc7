import { Agent, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { services } from '../../hooks/index.js';
import { assembleService } from '../../src/assemble-service.js';
import { loadConfig } from '../../src/config.js';
import {
  buildFullPrefetch,
  buildPatientViewBody,
  FIXED_NOW,
} from '../component/ops/hook-fixtures.js';
import { damage, damageBody, headers, path, rawBody } from './generators.js';

/*
 * Throws random and malformed requests at the real app on one loopback server and checks three
 * things for every answer: no 5xx, no crash, and a parseable JSON body. `/metrics` (Prometheus
 * text) and CORS preflights (204, empty by definition) are the only non-JSON answers and are
 * left out of the generated paths and methods.
 */

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

const HOOK = '/cds-services/liver-trends';

let server: Server;
let port: number;
// A fresh connection per request: the server may close a connection after a refused body, and
// reusing it would turn that race into a spurious client-side "socket hang up".
const agent = new Agent({ keepAlive: false, maxSockets: 4 });
const crashes: unknown[] = [];
/** The last error-level log line, to explain a 5xx when one happens. */
let lastErrorLine = '';
const onCrash = (err: unknown) => crashes.push(err);

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // Framed explicitly: without a length, Node sends a GET body raw, and the server would read it
    // as the start of a second, garbled request on the connection.
    const framing = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const options = { host: '127.0.0.1', port, method, path, headers: { ...headers, ...framing } };
    const req = httpRequest({ ...options, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expectJsonAnswer(reply: Reply): void {
  if (reply.status >= 500 || !/^application\/json\b/.test(reply.contentType)) {
    throw new Error(
      `unexpected answer ${reply.status} ${reply.contentType}: ${reply.body.slice(0, 300)} ${lastErrorLine}`,
    );
  }
  JSON.parse(reply.body);
}

// Thousands of loopback requests per property: allow for a busy two-core CI machine.
const FUZZ_TIMEOUT_MS = 90_000;

describe('fuzzing the HTTP surface', () => {
  beforeAll(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    const config = loadConfig({
      EMBEDDED_FHIR: 'false',
      LOG_LEVEL: 'info',
      FHIR_TIMEOUT_MS: '500',
      HOOK_DEADLINE_MS: '1000',
      MAX_BODY: '64kb',
    });
    const { app } = await assembleService(config, {
      services,
      now: () => FIXED_NOW,
      fhirRetryDelayMs: () => 0,
      logDestination: {
        write: (line: string) => {
          if (line.includes('"level":"error"') && !line.includes('request errored')) {
            lastErrorLine = line.slice(0, 1500);
          }
        },
      },
      processMetrics: false,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    agent.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it(
    'When 4 000 requests hit random paths with random methods, headers and bodies, every answer is a JSON non-5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
          path,
          headers,
          fc.option(rawBody, { nil: undefined }),
          async (method, p, h, body) => {
            expectJsonAnswer(await send(method, p, h, body));
          },
        ),
        { numRuns: 4000 },
      );
      expect(crashes).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'When 3 000 malformed bodies and headers are posted to the hook and feedback endpoints, every answer is a JSON 4xx or 200',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(HOOK, `${HOOK}/feedback`, '/cds-services/unknown', '/cds-services/'),
          headers,
          rawBody,
          async (p, h, body) => {
            expectJsonAnswer(await send('POST', p, h, body));
          },
        ),
        { numRuns: 3000 },
      );
      expect(crashes).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'When 3 000 patient-view calls with full prefetch are damaged in one to three places, every answer is a JSON non-5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 3 }), async (damages) => {
          const body = damageBody(buildPatientViewBody({ prefetch: buildFullPrefetch() }), damages);
          const reply = await send(
            'POST',
            HOOK,
            { 'content-type': 'application/json' },
            JSON.stringify(body),
          );
          expectJsonAnswer(reply);
        }),
        { numRuns: 3000 },
      );
      expect(crashes).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );
});
