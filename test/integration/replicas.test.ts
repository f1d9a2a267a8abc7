import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { spawnService, type ServiceProcess } from '../../scripts/spawn-service.js';
import { openRedis } from '../../src/stores/redis.js';
import { buildFullPrefetch, buildPatientViewBody } from '../component/ops/hook-fixtures.js';
import {
  buildSigningKey,
  signClientToken,
  type SigningKey,
} from '../component/ops/jwt-fixtures.js';

/*
 * Two service processes (the build output, as `npm start` runs it) share one PostgreSQL, one Redis
 * and one PUBLIC_BASE_URL, as replicas behind a load balancer do. The servers come from
 * TEST_DATABASE_URL and TEST_REDIS_URL, which .ci/run sets; outside CI, without them, the suite is
 * skipped with a warning. Every wait is for an event: a listening line, a log line, an exit.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const DATABASE_URL = process.env.TEST_DATABASE_URL;
const REDIS_URL = process.env.TEST_REDIS_URL;
const SHARED = DATABASE_URL !== undefined && REDIS_URL !== undefined;
if (!SHARED) {
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error('CI must run the shared-store tests: set TEST_DATABASE_URL and TEST_REDIS_URL');
  }
  process.stderr.write(
    'WARNING: TEST_DATABASE_URL / TEST_REDIS_URL not set: skipping the PostgreSQL/Redis replica tests\n',
  );
}

const PUBLIC_BASE_URL = 'http://cds.replicas.test';
const HOOK_PATH = '/cds-services/liver-trends';
const ISS = 'https://ehr.replicas.test';
const ADMIN_TOKEN = 'replica-admin-token-0123456789abcdef';

interface Replica {
  child: ServiceProcess;
  url: string;
  /** Resolves when a stdout line matches. */
  waitForLine: (pattern: RegExp) => Promise<string>;
  stop: () => Promise<void>;
}

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const { child, listening } = spawnService({
    command: process.execPath,
    args: [MAIN],
    cwd: ROOT,
    // The fixture labs are dated around 2026-06-01 and the processes run on the wall clock.
    env: { PUBLIC_BASE_URL, ADMIN_TOKEN, LOG_LEVEL: 'info', LOOKBACK_DAYS: '3650', ...env },
  });
  let seen = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    seen += chunk;
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(seen);
      if (match !== null) {
        waiters.splice(waiters.indexOf(waiter), 1);
        seen = seen.slice(match.index + match[0].length);
        waiter.resolve(match[0]);
      }
    }
  });
  const port = await listening;
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    waitForLine: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function hookCall(replica: Replica, key: SigningKey, token?: string) {
  const jwt = token ?? (await signClientToken(key, ISS, `${PUBLIC_BASE_URL}${HOOK_PATH}`));
  const res = await fetch(`${replica.url}${HOOK_PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${jwt}` },
    body: JSON.stringify(buildPatientViewBody({ prefetch: buildFullPrefetch() })),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as HookBody, jwt };
}

interface HookBody {
  cards?: { uuid: string; links?: { url: string }[] }[];
}

async function summaryOf(replica: Replica): Promise<unknown> {
  const res = await fetch(`${replica.url}/admin/feedback/summary`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return res.json();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A private redis-server in the foreground, so the test can stop and restart it. */
function startRedis(port: number): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (/Ready to accept connections/.test(text)) {
        text = '';
        resolve({
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)}`)));
  });
}

describe('an unreachable store at start-up', () => {
  it('When DATABASE_URL points at nothing, the process stops with one line naming the store', async () => {
    if (!existsSync(MAIN)) {
      throw new Error(`${MAIN} is missing: run npm run build first`);
    }
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        EMBEDDED_FHIR: 'false',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DATABASE_URL: `postgresql://nobody:secret@127.0.0.1:${port}/cds`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^Start-up failed: PostgreSQL at 127\\.0\\.0\\.1:${port}/cds cannot be used: `),
    );
    expect(stderr).not.toContain('secret');
  });
});

(SHARED ? describe : describe.skip)('two replicas sharing PostgreSQL and Redis', () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const database = `htc_replicas_${randomBytes(6).toString('hex')}`;
  let databaseUrl = '';
  let clientsFile = '';
  let key: SigningKey;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    if (!existsSync(MAIN)) {
      throw new Error(`${MAIN} is missing: run npm run build first`);
    }
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(DATABASE_URL ?? '');
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    key = await buildSigningKey('ES384');
    const dir = mkdtempSync(join(tmpdir(), 'cds-replicas-'));
    clientsFile = join(dir, 'clients.json');
    writeFileSync(clientsFile, JSON.stringify([{ iss: ISS, jwks: { keys: [key.publicJwk] } }]));
    // Started together on an empty database: the migrations run once, under the advisory lock.
    [a, b] = await Promise.all([
      startReplica({
        DATABASE_URL: databaseUrl,
        REDIS_URL: REDIS_URL ?? '',
        CDS_CLIENTS_FILE: clientsFile,
      }),
      startReplica({
        DATABASE_URL: databaseUrl,
        REDIS_URL: REDIS_URL ?? '',
        CDS_CLIENTS_FILE: clientsFile,
      }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  });

  const env = () => ({
    DATABASE_URL: databaseUrl,
    REDIS_URL: REDIS_URL ?? '',
    CDS_CLIENTS_FILE: clientsFile,
  });

  it('Both are ready and the migrations were applied exactly once', async () => {
    for (const replica of [a, b]) {
      const res = await fetch(`${replica.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ready',
        stores: { postgresql: 'ok', redis: 'ok' },
      });
    }
    const check = new pg.Client({ connectionString: databaseUrl });
    await check.connect();
    const rows = await check.query('SELECT version FROM schema_migrations ORDER BY version');
    await check.end();
    expect(rows.rows.map((row: { version: number }) => row.version)).toEqual([1]);
  });

  it('When a JWT accepted by replica A is replayed to replica B, B refuses it with 401', async () => {
    const first = await hookCall(a, key);
    expect(first.status).toBe(200);
    expect(first.body.cards?.length).toBeGreaterThan(0);
    const replay = await hookCall(b, key, first.jwt);
    expect(replay.status).toBe(401);
  });

  it('When a card from replica A carries a trend link, the link opens on replica B', async () => {
    const { body } = await hookCall(a, key);
    const link = body.cards
      ?.flatMap((card) => card.links ?? [])
      .find((l) => l.url.includes('/trends/'));
    expect(link?.url.startsWith(`${PUBLIC_BASE_URL}/trends/`)).toBe(true);
    const path = new URL(link?.url ?? '').pathname;
    const page = await fetch(`${b.url}${path}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<canvas');
    expect((await fetch(`${b.url}/trends/${'A'.repeat(32)}`)).status).toBe(410);
  });

  it('When feedback is posted to A, it shows in B’s summary and survives a restart of both', async () => {
    const before = (await summaryOf(b)) as {
      services: Record<string, { cards: number; overridden: number }>;
    };
    const { body } = await hookCall(a, key);
    const card = body.cards?.[0]?.uuid ?? '';
    const token = await signClientToken(key, ISS, `${PUBLIC_BASE_URL}${HOOK_PATH}/feedback`);
    const posted = await fetch(`${a.url}${HOOK_PATH}/feedback`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({
        feedback: [
          {
            card,
            outcome: 'overridden',
            overrideReason: { reason: { system: 'urn:test', code: 'already-addressed' } },
            outcomeTimestamp: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(posted.status).toBe(200);
    const cardsBefore = before.services['liver-trends']?.cards ?? 0;
    const expected = {
      cards: cardsBefore + (body.cards?.length ?? 0),
      overridden: (before.services['liver-trends']?.overridden ?? 0) + 1,
      overrideReasons: { 'already-addressed': 1 },
    };
    expect((await summaryOf(b)) as object).toMatchObject({
      services: { 'liver-trends': expected },
    });

    await Promise.all([a.stop(), b.stop()]);
    [a, b] = await Promise.all([startReplica(env()), startReplica(env())]);
    expect((await summaryOf(a)) as object).toMatchObject({
      services: { 'liver-trends': expected },
    });
    expect((await summaryOf(b)) as object).toMatchObject({
      services: { 'liver-trends': expected },
    });
  }, 60_000);

  it('When Redis stops, JWT hook calls get 503 with Retry-After, and succeed again once it is back', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const c = await startReplica({ ...env(), REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      expect((await hookCall(c, key)).status).toBe(200);
      const lost = c.waitForLine(/Redis connection problem/);
      await redis.stop();
      await lost;
      const refused = await hookCall(c, key);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await fetch(`${c.url}/readyz`)).status).toBe(503);

      const restored = c.waitForLine(/Redis connection restored/);
      redis = await startRedis(port);
      await restored;
      expect((await hookCall(c, key)).status).toBe(200);
      expect((await fetch(`${c.url}/readyz`)).status).toBe(200);
    } finally {
      await c.stop();
      await redis.stop();
    }
  }, 60_000);

  it('When trend links outgrow the Redis byte cap, the oldest go first and the total stays under it', async () => {
    const store = await openRedis(REDIS_URL ?? '', {
      logger: pino({ level: 'silent' }),
      trendLinkMaxBytes: 10_000,
      keyPrefix: `test:${randomBytes(6).toString('hex')}:`,
    });
    try {
      const payload = { series: 'x'.repeat(3000) };
      const ids = [];
      for (let n = 0; n < 5; n += 1) {
        ids.push(await store.trendLinks.put(payload, 60_000));
      }
      const kept = await Promise.all(ids.map((id) => store.trendLinks.get(id)));
      expect(kept.map((value) => value !== undefined)).toEqual([false, false, true, true, true]);
    } finally {
      await store.close();
    }
  });
});
