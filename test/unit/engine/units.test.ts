import { jest } from '@jest/globals';
import { ByteBoundedLru } from '../../../src/engine/byte-lru.js';
import {
  MAX_UNIT_LENGTH,
  UNIT_CACHE_MAX_BYTES,
  readQuantityUnit,
  resolveUnit,
  unitCacheUsage,
} from '../../../src/engine/units.js';

describe('unit resolution', () => {
  it.each([
    ['U/L', 1],
    ['U/l', 1],
    ['IU/L', 1],
    ['[IU]/L', 1],
    ['units/L', 1],
    ['ukat/L', 60],
    ['µkat/L', 60],
    ['μkat/L', 60],
    ['nkat/L', 0.06],
    ['U/mL', 1000],
  ])('When an enzyme result is in %s, it converts to U/L by a factor of %s', (unit, factor) => {
    const resolution = resolveUnit(unit, 'enzyme');
    expect(resolution.ok).toBe(true);
    expect(resolution.ok && resolution.factor).toBeCloseTo(factor, 10);
  });

  it.each([
    ['umol/L', 1],
    ['µmol/L', 1],
    ['mg/dL', 17.104],
    ['mg/L', 1.7104],
  ])(
    'When a bilirubin result is in %s, it converts to umol/L by a factor of %s',
    (unit, factor) => {
      const resolution = resolveUnit(unit, 'bilirubin');
      expect(resolution.ok && resolution.factor).toBeCloseTo(factor, 3);
    },
  );

  it.each([
    ['u/L', 'enzyme', 'atomic mass'],
    ['mmol/L', 'enzyme', 'cannot be converted to U/L'],
    ['%', 'enzyme', 'cannot be converted to U/L'],
    ['IU/L', 'bilirubin', 'not a recognised UCUM unit'],
    ['U/L', 'bilirubin', 'cannot be converted to umol/L'],
    ['xyz', 'enzyme', 'not a recognised UCUM unit'],
  ] as const)('When %s is given for an %s, it is refused: %s', (unit, kind, reason) => {
    const resolution = resolveUnit(unit, kind);
    expect(resolution.ok).toBe(false);
    expect(!resolution.ok && resolution.reason).toContain(reason);
  });

  it('When a Quantity is UCUM-coded, its code is read; otherwise its unit text', () => {
    expect(
      readQuantityUnit({ unit: 'IU/L', system: 'http://unitsofmeasure.org', code: '[IU]/L' }),
    ).toBe('[IU]/L');
    expect(readQuantityUnit({ unit: 'IU/L', system: 'http://example.org/units', code: 'X1' })).toBe(
      'IU/L',
    );
    expect(readQuantityUnit({})).toBeNull();
  });

  it.each([['()\n{"level":"info","msg":"forged line"}'], ['x()'], ['U/()'], ['U / L']])(
    'When the unit string %j makes the UCUM parser throw, nothing is printed and the unit is refused',
    (unit) => {
      const printed = [
        jest.spyOn(console, 'log'),
        jest.spyOn(console, 'info'),
        jest.spyOn(console, 'warn'),
        jest.spyOn(console, 'error'),
        jest.spyOn(process.stdout, 'write'),
      ];
      try {
        const resolution = resolveUnit(unit, 'enzyme');
        expect(resolution.ok).toBe(false);
        expect(!resolution.ok && resolution.reason).toContain('not a recognised UCUM unit');
        for (const spy of printed) {
          expect(spy).not.toHaveBeenCalled();
        }
      } finally {
        printed.forEach((spy) => spy.mockRestore());
      }
    },
  );

  it('When a unit string is longer than any real unit, it is refused without echoing it', () => {
    const unit = `U/L{${'x'.repeat(MAX_UNIT_LENGTH)}}`;
    const resolution = resolveUnit(unit, 'enzyme');
    expect(resolution.ok).toBe(false);
    expect(!resolution.ok && resolution.reason).not.toContain('xxxx');
  });

  it('When many distinct unit strings arrive, the cache stays within its byte budget and still answers', () => {
    for (let i = 0; i < 5000; i += 1) {
      resolveUnit(`U/L{run-${i}-${'a'.repeat(40)}}`, 'enzyme');
    }
    const usage = unitCacheUsage();
    expect(usage.bytes).toBeLessThanOrEqual(UNIT_CACHE_MAX_BYTES);
    expect(usage.entries).toBeLessThan(5000);
    expect(resolveUnit('U/L', 'enzyme')).toEqual({ ok: true, ucumCode: 'U/L', factor: 1 });
  });
});

describe('ByteBoundedLru', () => {
  const sizeOf = (key: string, value: string) => key.length + value.length;

  it('When the budget is exceeded, the least recently used entry goes first', () => {
    const lru = new ByteBoundedLru<string>(20, sizeOf);
    lru.set('a', '1234'); // 5 bytes
    lru.set('b', '1234');
    lru.set('c', '1234');
    expect(lru.get('a')).toBe('1234'); // a is now the most recent
    lru.set('d', '12345678'); // 9 bytes: 24 > 20, so b (oldest) must go
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('1234');
    expect(lru.get('c')).toBe('1234');
    expect(lru.get('d')).toBe('12345678');
    expect(lru.bytes).toBe(19);
  });

  it('When one value alone exceeds the budget, it is not kept and nothing else is evicted', () => {
    const lru = new ByteBoundedLru<string>(10, sizeOf);
    lru.set('a', '1');
    lru.set('big', 'x'.repeat(50));
    expect(lru.get('big')).toBeUndefined();
    expect(lru.get('a')).toBe('1');
    expect(lru.bytes).toBe(2);
  });

  it('When a key is set again, its old size is released', () => {
    const lru = new ByteBoundedLru<string>(100, sizeOf);
    lru.set('k', 'x'.repeat(30));
    lru.set('k', 'y');
    expect(lru.size).toBe(1);
    expect(lru.bytes).toBe(2);
  });
});
