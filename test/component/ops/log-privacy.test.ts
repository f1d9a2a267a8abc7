import request from 'supertest';
import { assembleService } from '../../../src/assemble-service.js';
import { loadConfig } from '../../../src/config.js';
import { scrubSecrets } from '../../../src/observability/logger.js';
import { FIXED_NOW } from '../../fixtures/observation.js';
import { buildFullPrefetch, buildPatientViewBody } from './hook-fixtures.js';
import { captureLog } from './log-capture.js';

// A trend-link URL is a capability: anyone holding the id can open that patient's trend page, so
// the id must not be readable from the logs, whichever way the page was asked for.

describe('trend-link ids and the logs', () => {
  test('When a card carries a trend link and the page is opened in any spelling, no log line holds the id', async () => {
    const sink = captureLog();
    const { app } = await assembleService(
      loadConfig({ EMBEDDED_FHIR: 'false', LOG_LEVEL: 'trace', HOST: '127.0.0.1' }),
      { logDestination: sink, processMetrics: false, now: () => FIXED_NOW },
    );

    const hook = await request(app)
      .post('/cds-services/liver-trends')
      .send(buildPatientViewBody({ prefetch: buildFullPrefetch() }))
      .expect(200);
    const links = (hook.body as { cards: { links?: { url: string }[] }[] }).cards.flatMap(
      (card) => card.links ?? [],
    );
    const url = links.map((link) => link.url).find((u) => u.includes('/trends/'));
    expect(url).toBeDefined();
    const id = new URL(url ?? '').pathname.split('/').at(-1) ?? '';
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);

    await request(app).get(`/trends/${id}`).expect(200);
    await request(app).get(`/TRENDS/${id}`).expect(200);
    const encoded = `%${id.charCodeAt(0).toString(16)}${id.slice(1)}`;
    await request(app).get(`/trends/${encoded}`).expect(200);
    await request(app).get(`/trends/${id}/extra`).expect(404);

    const text = sink.text();
    expect(text).toContain('/trends/[Redacted]');
    expect(text).not.toContain(id);
    expect(text).not.toContain(id.slice(1));
  });

  test.each([
    ['trend page SyXGLp2qJuxVaIdtJ9grjcUOdyPO5yFW opened', 'trend page [Redacted] opened'],
    ['"path":"/x/UmLnRiZ9vD8k3PFJU57z5FCMDAhwH2q8"', '"path":"/x/[Redacted]"'],
    // Hashes, UUIDs and ordinary words of other lengths are not ids.
    ['hash 0123456789abcdef0123456789abcdef', 'hash 0123456789abcdef0123456789abcdef'],
    ['id d1577c69-dfbe-44ad-ba6d-3e05e953b2ea', 'id d1577c69-dfbe-44ad-ba6d-3e05e953b2ea'],
  ])('When a log line holds %s, the scrubber leaves %s', (line, expected) => {
    expect(scrubSecrets(line)).toBe(expected);
  });
});
