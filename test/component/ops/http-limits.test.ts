import { connect } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createHttpServer } from '../../../src/http/server.js';
import { buildCdsRequest, buildPatient, buildSearchset } from '../../fixtures/cds-request.js';
import { buildTestApp } from '../protocol/harness.js';

const HOOK_URL = '/cds-services/protocol-test';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** Writes `text` on a raw socket and resolves with whatever the server sends before it closes. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      // One complete answer is enough: stop without sending the body the headers announced.
      if (/\r\n\r\n[\s\S]*\}$/.test(received)) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('Slow and oversized clients', () => {
  test('When a client sends its headers too slowly, the server answers 408 and closes, within HEADERS_TIMEOUT_MS', async () => {
    const server = createHttpServer((await buildTestApp()).app, {
      headersTimeoutMs: 200,
      requestTimeoutMs: 1000,
    });
    const port = await listen(server);
    try {
      const reply = await rawExchange(port, `POST ${HOOK_URL} HTTP/1.1\r\nHost: localhost\r\n`);
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await close(server);
    }
  });

  test('When a client sends its body too slowly, the server answers 408 within REQUEST_TIMEOUT_MS', async () => {
    const server = createHttpServer((await buildTestApp()).app, {
      headersTimeoutMs: 200,
      requestTimeoutMs: 400,
    });
    const port = await listen(server);
    try {
      const reply = await rawExchange(
        port,
        `POST ${HOOK_URL} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"hook":`,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await close(server);
    }
  });

  test('When Content-Length declares more than MAX_BODY, answers 413 before any of the body is sent', async () => {
    const { app } = await buildTestApp({ env: { MAX_BODY: '4kb' } });
    const server = createHttpServer(app, { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
    const port = await listen(server);
    try {
      const reply = await rawExchange(
        port,
        `POST ${HOOK_URL} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500000000\r\n\r\n`,
      );
      expect(reply).toMatch(/^HTTP\/1\.1 413/);
      expect(reply).toMatch(/connection: close/i);
      expect(reply).toContain('larger than the limit of 4096 bytes');
    } finally {
      await close(server);
    }
  });
});

describe('Lone UTF-16 surrogates in the body', () => {
  const body = (patientId: string) =>
    JSON.stringify(buildCdsRequest({ prefetch: { patient: buildPatient() } })).replace(
      '"patientId":"1288992"',
      `"patientId":"${patientId}"`,
    );

  test.each([
    ['context.patientId (used in a FHIR URL)', HOOK_URL, body('12\\ud800')],
    ['a low surrogate alone', HOOK_URL, body('\\udc00x')],
    [
      'a feedback comment',
      `${HOOK_URL}/feedback`,
      JSON.stringify({
        feedback: [
          {
            card: 'c1',
            outcome: 'overridden',
            outcomeTimestamp: '2026-03-01T12:00:00Z',
            overrideReason: { userComment: 'x' },
          },
        ],
      }).replace('"userComment":"x"', '"userComment":"bad \\ud83d end"'),
    ],
    ['an object key', HOOK_URL, body('1288992').replace('"hook":', '"\\ud800":1,"hook":')],
  ])('When %s holds one, answers 400, not 500', async (_label, url, text) => {
    const { app } = await buildTestApp({ env: { MAX_BODY: '64kb' } });
    const res = await request(app)
      .post(url)
      .set('Content-Type', 'application/json')
      .send(text)
      .expect(400);
    expect(res.body.issue[0].diagnostics).toMatch(/lone UTF-16 surrogate/);
  });

  test('When a surrogate pair is escaped correctly, the request is accepted', async () => {
    const { app } = await buildTestApp({ env: { MAX_BODY: '64kb' } });
    const full = {
      patient: buildPatient({ name: [{ text: 'NAME' }] }),
      labs: buildSearchset([]),
    };
    const text = JSON.stringify(buildCdsRequest({ prefetch: full })).replace(
      '"NAME"',
      '"Ana \\ud83d\\ude00"',
    );
    await request(app)
      .post(HOOK_URL)
      .set('Content-Type', 'application/json')
      .send(text)
      .expect(200);
  });
});
