import { createMemoryReplayCache } from '../../../src/stores/replay-cache.js';

describe('in-memory JWT replay cache', () => {
  const start = new Date('2026-01-01T00:00:00Z');
  const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);

  it('When a jti is seen twice before its token expires, the second check is refused', async () => {
    const cache = createMemoryReplayCache({ now: () => start });
    await expect(cache.checkAndRemember('a', at(60))).resolves.toBe(true);
    await expect(cache.checkAndRemember('a', at(60))).resolves.toBe(false);
    await expect(cache.checkAndRemember('b', at(60))).resolves.toBe(true);
  });

  it('When the token lifetime has passed, its jti is swept and memory is released', async () => {
    let now = start;
    const cache = createMemoryReplayCache({ now: () => now });
    await cache.checkAndRemember('short', at(10));
    await cache.checkAndRemember('long', at(600));
    now = at(11);
    await cache.checkAndRemember('new', at(100));
    expect(cache.size).toBe(2);
    await expect(cache.checkAndRemember('long', at(600))).resolves.toBe(false);
  });

  it('When the cache is full of live ids, new ids are refused rather than old ones forgotten', async () => {
    const cache = createMemoryReplayCache({ now: () => start, maxEntries: 2 });
    await cache.checkAndRemember('a', at(60));
    await cache.checkAndRemember('b', at(60));
    await expect(cache.checkAndRemember('c', at(60))).resolves.toBe(false);
    await expect(cache.checkAndRemember('a', at(60))).resolves.toBe(false);
  });
});
