import { Agent, createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShutdown } from '../../../src/http/shutdown.js';

interface Reply {
  status: number;
  body: string;
}

function get(port: number, path: string, agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/hang') {
      return; // never answers
    }
    const delay = req.url === '/slow' ? 300 : 0;
    setTimeout(() => res.writeHead(200).end('done'), delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('graceful shutdown', () => {
  it('When SIGTERM arrives during a slow request, that request still completes, idle keep-alive sockets are closed and new connections are refused', async () => {
    const { server, port } = await startServer();
    const agent = new Agent({ keepAlive: true });
    await get(port, '/fast', agent); // leaves an idle keep-alive socket behind
    const inFlight = get(port, '/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    const result = await createShutdown(server, { graceMs: 5000 })('SIGTERM');

    await expect(inFlight).resolves.toEqual({ status: 200, body: 'done' });
    expect(result).toBe('graceful');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(get(port, '/fast')).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('When a request outlives the grace period, its socket is cut and shutdown reports it was forced', async () => {
    const { server, port } = await startServer();
    const hanging = get(port, '/hang').catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 50));
    let released = false;
    const result = await createShutdown(server, {
      graceMs: 200,
      onClosed: async () => {
        released = true;
      },
    })('SIGTERM');
    expect(result).toBe('forced');
    expect(released).toBe(true);
    expect(await hanging).toMatchObject({ message: 'socket hang up' });
  });

  it('When the signal arrives twice, shutdown runs once', async () => {
    const { server } = await startServer();
    const shutdown = createShutdown(server, { graceMs: 1000 });
    const [a, b] = await Promise.all([shutdown('SIGTERM'), shutdown('SIGINT')]);
    expect([a, b]).toEqual(['graceful', 'graceful']);
  });

  it('When SIGTERM arrives under keep-alive load, no request is reset: each is answered, the last ones with Connection: close', async () => {
    const server = createServer((_req, res) => {
      setImmediate(() => res.writeHead(200).end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const shutdown = createShutdown(server, { graceMs: 10_000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const counts = { ok: 0, closing: 0, refused: 0, failed: [] as string[] };
    let warmedUp: () => void = () => undefined;
    const warm = new Promise<void>((resolve) => (warmedUp = resolve));

    const once = () =>
      new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers.connection));
        });
        req.on('error', reject);
        req.end();
      });
    const worker = async () => {
      for (;;) {
        try {
          const connection = await once();
          counts.ok += 1;
          if (connection === 'close') {
            counts.closing += 1;
          }
          if (counts.ok === 1000) {
            warmedUp();
          }
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          // A new connection after the listener closed is refused, as it should be.
          if (code === 'ECONNREFUSED') {
            counts.refused += 1;
          } else {
            counts.failed.push(code);
          }
          return;
        }
      }
    };
    const workers = Array.from({ length: 32 }, worker);
    await warm;
    const result = await shutdown('SIGTERM');
    await Promise.all(workers);
    agent.destroy();

    expect(counts.failed).toEqual([]);
    expect(result).toBe('graceful');
    expect(counts.closing).toBeGreaterThan(0);
    expect(counts.refused).toBe(32);
  });
});
