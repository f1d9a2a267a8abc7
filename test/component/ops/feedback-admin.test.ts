import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { services } from '../../../hooks/index.js';
import { assembleService } from '../../../src/assemble-service.js';
import { loadConfig } from '../../../src/config.js';
import type { FeedbackStore } from '../../../src/stores/feedback-store.js';
import { InMemoryIssuanceLog, type CardIssuanceLog } from '../../../src/stores/issuance-log.js';
import type { ReplayCache } from '../../../src/stores/replay-cache.js';
import { StoreUnavailableError } from '../../../src/stores/store-errors.js';
import { buildFullPrefetch, buildPatientViewBody, FIXED_NOW } from './hook-fixtures.js';
import { buildSigningKey, signClientToken } from './jwt-fixtures.js';

const BASE = 'http://cds.test';
const HOOK_PATH = '/cds-services/liver-trends';
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const KEY = Buffer.alloc(32, 7);

async function build(
  env: Record<string, string> = {},
  stores: Parameters<typeof assembleService>[1] extends infer O
    ? O extends { stores?: infer S }
      ? S
      : never
    : never = {},
) {
  const config = loadConfig({
    EMBEDDED_FHIR: 'false',
    LOG_LEVEL: 'silent',
    PUBLIC_BASE_URL: BASE,
    ADMIN_TOKEN,
    ...env,
  });
  return assembleService(config, { services, now: () => FIXED_NOW, processMetrics: false, stores });
}

async function issueCards(app: Parameters<typeof request>[0]): Promise<{ uuid: string }[]> {
  const res = await request(app)
    .post(HOOK_PATH)
    .send(buildPatientViewBody({ prefetch: buildFullPrefetch() }))
    .expect(200);
  return res.body.cards as { uuid: string }[];
}

function feedback(card: string, outcome: 'accepted' | 'overridden', reason?: string) {
  return {
    card,
    outcome,
    outcomeTimestamp: '2026-03-01T12:05:00Z',
    ...(outcome === 'accepted' ? { acceptedSuggestions: [{ id: 'x' }] } : {}),
    ...(reason === undefined
      ? {}
      : {
          overrideReason: {
            reason: { system: 'http://example.org/override', code: reason },
            userComment: '=HYPERLINK("x"), "quoted"',
          },
        }),
  };
}

const unavailable = (store: 'postgresql' | 'redis') =>
  new StoreUnavailableError(store, `${store} is down`);

describe('feedback summary and raw feedback for the informatics team', () => {
  it('When cards were issued and some got feedback, the summary has exactly the documented shape and counts', async () => {
    const issuanceLog = new InMemoryIssuanceLog({ key: KEY });
    const { app } = await build({}, { issuanceLog });
    const cards = [...(await issueCards(app)), ...(await issueCards(app))];
    expect(cards.length).toBeGreaterThanOrEqual(2);
    const [first, second] = cards;
    await request(app)
      .post(`${HOOK_PATH}/feedback`)
      .send({
        feedback: [
          feedback(first?.uuid ?? '', 'overridden', 'already-addressed'),
          feedback(second?.uuid ?? '', 'overridden'),
        ],
      })
      .expect(200);

    const res = await request(app)
      .get('/admin/feedback/summary')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    expect(Object.keys(res.body)).toEqual(['services']);
    expect(res.body.services['liver-trends']).toEqual({
      cards: cards.length,
      accepted: 0,
      overridden: 2,
      overrideReasons: { 'already-addressed': 1, none: 1 },
    });
    // Every registered service is listed, with zeros until it issues a card.
    for (const service of services.filter((s) => s.definition.id !== 'liver-trends')) {
      expect(res.body.services[service.definition.id]).toEqual({
        cards: 0,
        accepted: 0,
        overridden: 0,
        overrideReasons: {},
      });
    }
    // The log traces a card back to its patient (hashed), kind, tier and finding.
    const issue = await issuanceLog.find(first?.uuid ?? '');
    expect(issue).toMatchObject({
      serviceId: 'liver-trends',
      patientHash: issuanceLog.patientHash('pat-1'),
      kind: expect.stringMatching(/^[a-z-]+$/),
      fingerprint: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      issuedAt: FIXED_NOW,
    });
    expect(issue?.patientHash).not.toContain('pat-1');
  });

  it('When the raw items are asked for since a date, answers JSON, or CSV safe to open in a spreadsheet', async () => {
    const { app } = await build();
    const [card] = await issueCards(app);
    await request(app)
      .post(`${HOOK_PATH}/feedback`)
      .send({ feedback: [feedback(card?.uuid ?? '', 'overridden', 'not-relevant')] })
      .expect(200);
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

    const json = await request(app).get('/admin/feedback?since=2026-06-01').set(auth).expect(200);
    expect(json.body.items).toHaveLength(1);
    expect(json.body.items[0]).toMatchObject({
      serviceId: 'liver-trends',
      item: { card: card?.uuid },
    });
    const later = await request(app).get('/admin/feedback?since=2026-06-02T00:00:00Z').set(auth);
    expect(later.body.items).toEqual([]);

    const csv = await request(app).get('/admin/feedback').set(auth).set('Accept', 'text/csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const [header, row] = csv.text.trim().split('\r\n');
    expect(header).toBe(
      'serviceId,receivedAt,card,outcome,outcomeTimestamp,overrideReasonSystem,overrideReasonCode,overrideReasonDisplay,userComment,acceptedSuggestions',
    );
    expect(row).toContain(`liver-trends,2026-06-01T12:00:00.000Z,${card?.uuid ?? ''},overridden`);
    expect(row).toContain(`"'=HYPERLINK(""x""), ""quoted"""`);

    await request(app).get('/admin/feedback?since=yesterday').set(auth).expect(400);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${ADMIN_TOKEN.slice(0, -1)}x`],
    ['a longer token', `Bearer ${ADMIN_TOKEN}x`],
    ['another scheme', `Basic ${ADMIN_TOKEN}`],
  ])('When the admin token is missing or wrong (%s), answers 401', async (_label, header) => {
    const { app } = await build();
    const req = request(app).get('/admin/feedback/summary');
    const res = await (header === undefined ? req : req.set('Authorization', header));
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('When ADMIN_TOKEN is not set, the admin routes do not exist', async () => {
    const config = loadConfig({ EMBEDDED_FHIR: 'false', LOG_LEVEL: 'silent' });
    const { app } = await assembleService(config, { services, processMetrics: false });
    await request(app)
      .get('/admin/feedback/summary')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(404);
  });
});

describe('when a shared store is unavailable', () => {
  it('Feedback answers 503 with Retry-After; /readyz still answers 200 for in-memory state', async () => {
    const feedbackStore: FeedbackStore = {
      save: () => Promise.reject(unavailable('postgresql')),
      list: () => Promise.reject(unavailable('postgresql')),
      tally: () => Promise.reject(unavailable('postgresql')),
    };
    const { app } = await build({}, { feedback: feedbackStore });
    const res = await request(app)
      .post(`${HOOK_PATH}/feedback`)
      .send({ feedback: [feedback('0f5c3e0a-8f8e-4c1e-9a55-3a1f3f8e6b21', 'overridden')] })
      .expect(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(res.body.issue[0].code).toBe('transient');
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ready', version: expect.any(String), stores: {} });
  });

  it('Hook calls still answer when the issuance log cannot be written, and the skip is counted', async () => {
    const real = new InMemoryIssuanceLog({ key: KEY });
    const issuanceLog: CardIssuanceLog = {
      patientHash: real.patientHash,
      record: () => Promise.reject(unavailable('postgresql')),
      find: () => Promise.resolve(undefined),
      listForPatient: () => Promise.resolve([]),
      countByService: () => Promise.resolve({}),
    };
    const { app } = await build({}, { issuanceLog });
    const cards = await issueCards(app);
    expect(cards.length).toBeGreaterThan(0);
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^cds_issuance_log_skipped_total 1$/m);
  });

  it('In JWT mode, a replay check that cannot run refuses the call with 503 and Retry-After (fail closed)', async () => {
    const key = await buildSigningKey('ES384');
    const dir = mkdtempSync(join(tmpdir(), 'cds-admin-'));
    const clientsFile = join(dir, 'clients.json');
    const iss = 'https://ehr.test';
    writeFileSync(clientsFile, JSON.stringify([{ iss, jwks: { keys: [key.publicJwk] } }]));
    let down = true;
    const seen = new Set<string>();
    const replayCache: ReplayCache = {
      checkAndRemember: (jti) => {
        if (down) {
          return Promise.reject(unavailable('redis'));
        }
        const fresh = !seen.has(jti);
        seen.add(jti);
        return Promise.resolve(fresh);
      },
    };
    const { app } = await build({ CDS_CLIENTS_FILE: clientsFile }, { replayCache });
    const body = buildPatientViewBody({ prefetch: buildFullPrefetch() });
    const token = await signClientToken(key, iss, `${BASE}${HOOK_PATH}`);
    const refused = await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${token}`)
      .send(body)
      .expect(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);

    down = false;
    const again = await signClientToken(key, iss, `${BASE}${HOOK_PATH}`);
    await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${again}`)
      .send(body)
      .expect(200);
    await request(app)
      .post(HOOK_PATH)
      .set('Authorization', `Bearer ${again}`)
      .send(body)
      .expect(401);
  });
});
