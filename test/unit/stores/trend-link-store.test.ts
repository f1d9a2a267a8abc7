import { InMemoryTrendLinkStore, isTrendLinkId } from '../../../src/stores/trend-link-store.js';

function buildClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('InMemoryTrendLinkStore', () => {
  it('When a payload is stored, returns an unguessable url-safe id of at least 128 bits that reads it back', async () => {
    const store = new InMemoryTrendLinkStore<{ n: number }>({ maxEntries: 10 });
    const id = await store.put({ n: 1 }, 60_000);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(isTrendLinkId(id)).toBe(true);
    await expect(store.get(id)).resolves.toEqual({ n: 1 });
  });

  it('When many links are minted, never repeats an id', async () => {
    const store = new InMemoryTrendLinkStore<number>({ maxEntries: 5000 });
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      ids.add(await store.put(i, 60_000));
    }
    expect(ids.size).toBe(2000);
  });

  it('When the TTL has passed, the id no longer resolves', async () => {
    const clock = buildClock();
    const store = new InMemoryTrendLinkStore<string>({ maxEntries: 10, now: clock.now });
    const id = await store.put('view', 900_000);
    clock.advance(899_999);
    await expect(store.get(id)).resolves.toBe('view');
    clock.advance(1);
    await expect(store.get(id)).resolves.toBeUndefined();
  });

  it('When the store is full, evicts the oldest entry first and keeps the newest', async () => {
    const store = new InMemoryTrendLinkStore<string>({ maxEntries: 3 });
    const ids = [
      await store.put('a', 60_000),
      await store.put('b', 60_000),
      await store.put('c', 60_000),
    ];
    const newest = await store.put('d', 60_000);
    expect(store.size).toBe(3);
    await expect(store.get(ids[0])).resolves.toBeUndefined();
    await expect(store.get(ids[1])).resolves.toBe('b');
    await expect(store.get(newest)).resolves.toBe('d');
  });

  it('When expired entries are swept, they make room before any live entry is evicted', async () => {
    const clock = buildClock();
    const store = new InMemoryTrendLinkStore<string>({
      maxEntries: 3,
      now: clock.now,
      sweepIntervalMs: 1_000,
    });
    await store.put('short-lived', 1_000);
    const live = await store.put('live', 600_000);
    clock.advance(2_000);
    await store.put('next', 600_000);
    expect(store.size).toBe(2);
    await store.put('after', 600_000);
    await expect(store.get(live)).resolves.toBe('live');
  });

  it('When an id was never minted, returns undefined rather than throwing', async () => {
    const store = new InMemoryTrendLinkStore<string>({ maxEntries: 3 });
    await expect(store.get('not-an-id')).resolves.toBeUndefined();
    expect(isTrendLinkId('../../etc/passwd')).toBe(false);
  });

  it.each([0, -1, Number.NaN])('When the TTL is %p, refuses to store', async (ttl) => {
    const store = new InMemoryTrendLinkStore<string>({ maxEntries: 3 });
    await expect(store.put('x', ttl)).rejects.toThrow(RangeError);
  });

  it('When configured with no capacity, refuses to start', () => {
    expect(() => new InMemoryTrendLinkStore({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
