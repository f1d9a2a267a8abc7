import type { FeedbackItem } from '../../../src/cds/schemas.js';
import { InMemoryFeedbackStore } from '../../../src/stores/feedback-store.js';
import { InMemoryIssuanceLog } from '../../../src/stores/issuance-log.js';
import { InMemoryTrendLinkStore } from '../../../src/stores/trend-link-store.js';

function item(comment: string, n: number): FeedbackItem {
  return {
    card: `0f5c3e0a-8f8e-4c1e-9a55-${String(n).padStart(12, '0')}`,
    outcome: 'overridden',
    overrideReason: { userComment: comment },
    outcomeTimestamp: '2026-03-01T12:00:00Z',
  };
}

describe('InMemoryFeedbackStore', () => {
  it('When long comments arrive, memory stays under the byte budget and the newest items are kept', async () => {
    const store = new InMemoryFeedbackStore({ maxBytes: 64 * 1024 });
    const at = new Date('2026-03-01T12:00:00Z');
    for (let n = 0; n < 200; n += 1) {
      await store.save('svc', [item('x'.repeat(4000), n)], at);
    }
    expect(store.byteSize).toBeLessThanOrEqual(64 * 1024);
    const kept = await store.list();
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(20);
    expect(kept.at(-1)?.item.card).toBe(item('', 199).card);
    // Short items: many more fit in the same budget.
    for (let n = 0; n < 200; n += 1) {
      await store.save('svc', [item('ok', n)], at);
    }
    expect((await store.list()).length).toBeGreaterThan(100);
  });

  it('When asked for a tally, counts by service, outcome and reason code', async () => {
    const store = new InMemoryFeedbackStore();
    const at = new Date();
    await store.save('a', [item('', 1), item('', 2)], at);
    await store.save(
      'b',
      [{ ...item('', 3), overrideReason: { reason: { system: 'urn:x', code: 'r1' } } }],
      at,
    );
    expect(await store.tally()).toEqual(
      expect.arrayContaining([
        { serviceId: 'a', outcome: 'overridden', reasonCode: null, count: 2 },
        { serviceId: 'b', outcome: 'overridden', reasonCode: 'r1', count: 1 },
      ]),
    );
  });
});

describe('InMemoryTrendLinkStore fairness and byte bound', () => {
  const payload = { series: 'y'.repeat(3800) };

  it('When anonymous traffic floods the store, links made for an authenticated client survive', async () => {
    const store = new InMemoryTrendLinkStore<typeof payload>({ maxBytes: 400_000 });
    const live = [];
    for (let n = 0; n < 40; n += 1) {
      live.push(await store.put(payload, 900_000, 'client:https://ehr.example'));
    }
    for (let n = 0; n < 5000; n += 1) {
      await store.put(payload, 900_000, 'anonymous');
    }
    expect(store.byteSize).toBeLessThanOrEqual(400_000);
    for (const id of live) {
      await expect(store.get(id)).resolves.toEqual(payload);
    }
    expect(store.bytesOf('anonymous')).toBeLessThanOrEqual(200_000);
  });

  it('When two clients compete for a full store, the one holding the most bytes loses its oldest link first', async () => {
    const store = new InMemoryTrendLinkStore<typeof payload>({
      maxBytes: 100_000,
      maxOwnerShare: 1,
    });
    const a = [];
    for (let n = 0; n < 24; n += 1) {
      a.push(await store.put(payload, 900_000, 'a'));
    }
    const b = await store.put(payload, 900_000, 'b');
    await store.put(payload, 900_000, 'b');
    await expect(store.get(b)).resolves.toEqual(payload);
    await expect(store.get(a[0] ?? '')).resolves.toBeUndefined();
    await expect(store.get(a.at(-1) ?? '')).resolves.toEqual(payload);
  });

  it('When a payload is larger than one owner may hold, refuses it', async () => {
    const store = new InMemoryTrendLinkStore<string>({ maxBytes: 1000 });
    await expect(store.put('z'.repeat(2000), 1000)).rejects.toThrow(RangeError);
  });
});

describe('InMemoryIssuanceLog', () => {
  it('When more issues arrive than it keeps, forgets the oldest but keeps counting', async () => {
    const log = new InMemoryIssuanceLog({ key: Buffer.alloc(32, 1), maxEntries: 2 });
    const issue = (uuid: string) => ({
      uuid,
      serviceId: 's',
      patientHash: log.patientHash('p'),
      kind: 'k',
      fingerprint: 'f',
      tier: 't',
      issuedAt: new Date(),
    });
    await log.record([issue('1'), issue('2'), issue('3')]);
    await expect(log.find('1')).resolves.toBeUndefined();
    await expect(log.find('3')).resolves.toMatchObject({ uuid: '3', kind: 'k' });
    await expect(log.countByService()).resolves.toEqual({ s: 3 });
    expect((await log.listForPatient('s', log.patientHash('p'))).map((i) => i.uuid)).toEqual([
      '3',
      '2',
    ]);
    expect(log.patientHash('p')).not.toBe(
      new InMemoryIssuanceLog({ key: Buffer.alloc(32, 2) }).patientHash('p'),
    );
  });
});
