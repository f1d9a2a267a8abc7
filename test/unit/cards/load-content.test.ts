import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POINT_IDS, SUMMARY_LIMIT } from '../../../src/cards/content-schema.js';
import {
  CONTENT_FILES,
  CardContentError,
  loadCardContent,
  parseCardContent,
  type CardContent,
} from '../../../src/cards/load-content.js';

const CARDS_DIR = join(process.cwd(), 'cards');

function readRaw(): Record<keyof CardContent, unknown> {
  const read = (file: string): unknown => JSON.parse(readFileSync(join(CARDS_DIR, file), 'utf8'));
  return {
    cholestaticShift: read(CONTENT_FILES.cholestaticShift),
    nonHepaticAlp: read(CONTENT_FILES.nonHepaticAlp),
    medicationReview: read(CONTENT_FILES.medicationReview),
    twoResults: read(CONTENT_FILES.twoResults),
    conditions: read(CONTENT_FILES.conditions),
    drugs: read(CONTENT_FILES.drugs),
    drugProducts: read(CONTENT_FILES.drugProducts),
    placentalAlp: read(CONTENT_FILES.placentalAlp),
    overlapAlp: read(CONTENT_FILES.overlapAlp),
    contextRules: read(CONTENT_FILES.contextRules),
  };
}

function errorOf(run: () => unknown): CardContentError {
  try {
    run();
  } catch (error) {
    if (error instanceof CardContentError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a CardContentError');
}

describe('card content', () => {
  it('When the shipped cards/ directory is loaded, every file passes its schema', () => {
    const content = loadCardContent(CARDS_DIR);

    expect(content.cholestaticShift.kind).toBe('cholestatic-shift');
    expect(content.drugs.cholestatic.length).toBeGreaterThanOrEqual(20);
    expect(content.conditions.groups.map((group) => group.id)).toEqual(
      expect.arrayContaining(['ibd', 'psc', 'pbc', 'aih', 'hbv', 'alcohol', 'cirrhosis']),
    );
  });

  it('When the content is read as a whole, every source point P1–S3 is covered by some card kind', () => {
    const content = loadCardContent(CARDS_DIR);
    const covered = new Set(
      [content.cholestaticShift, content.nonHepaticAlp, content.medicationReview].flatMap(
        (kind) => kind.covers,
      ),
    );

    expect(POINT_IDS.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('When every card cites a source, it is the ACG 2017 guideline', () => {
    const content = loadCardContent(CARDS_DIR);

    for (const kind of [
      content.cholestaticShift,
      content.nonHepaticAlp,
      content.medicationReview,
    ]) {
      expect(kind.source.url).toBe('https://doi.org/10.1038/ajg.2016.517');
    }
  });

  it('When every drug entry is read, its LiverTox link points into the LiverTox book', () => {
    const content = loadCardContent(CARDS_DIR);

    for (const drug of content.drugs.cholestatic) {
      expect(drug.livertoxUrl.startsWith('https://www.ncbi.nlm.nih.gov/books/NBK547852/')).toBe(
        true,
      );
    }
  });

  it('When a summary uses a slot that does not exist, the error names the file, the field and the slot', () => {
    const raw = readRaw();
    const shift = structuredClone(raw.cholestaticShift) as { summary: Record<string, string> };
    shift.summary['5-10x'] = 'ALP {{alpTimesUln}}×ULN';

    const error = errorOf(() => parseCardContent({ ...raw, cholestaticShift: shift }));

    expect(error.file).toBe('cholestatic-shift.json');
    expect(error.message).toContain('cards/cholestatic-shift.json');
    expect(error.message).toContain('summary.5-10x: unknown slot {{alpTimesUln}}');
  });

  it(`When a summary could exceed ${SUMMARY_LIMIT} characters once filled, loading fails`, () => {
    const raw = readRaw();
    const medication = structuredClone(raw.medicationReview) as { summary: Record<string, string> };
    medication.summary['below-5x'] = `{{drug}} ${'x'.repeat(100)}`;

    const error = errorOf(() => parseCardContent({ ...raw, medicationReview: medication }));

    expect(error.file).toBe('medication-review.json');
    expect(error.message).toMatch(/summary\.below-5x: summary can reach 141 characters/);
  });

  it.each([
    [
      'names a drug missing from the list',
      { drug: 'amoxycillin', rxcui: '1', status: 'V' },
      '"amoxycillin" is not a drug',
    ],
    [
      "reuses another drug's ingredient code",
      { drug: 'clopidogrel', rxcui: '1256', status: 'V' },
      'is the ingredient code of "azathioprine"',
    ],
    [
      'carries an unverified code',
      { drug: 'clopidogrel', rxcui: '2', status: 'U' },
      'products.0.status',
    ],
  ])('When a product code %s, loading fails and says why', (_title, product, message) => {
    const raw = readRaw();
    const table = structuredClone(raw.drugProducts) as { products: object[] };
    table.products = [{ tty: 'SCD', name: 'x', evidence: 'test', ...product }, ...table.products];

    const error = errorOf(() => parseCardContent({ ...raw, drugProducts: table }));

    expect(error.file).toBe('cholestatic-drug-products.json');
    expect(error.message).toContain(message);
  });

  it('When a suggestion the rules ask for is removed, loading fails and names it', () => {
    const raw = readRaw();
    const shift = structuredClone(raw.cholestaticShift) as { suggestions: Array<{ id: string }> };
    shift.suggestions = shift.suggestions.filter((suggestion) => suggestion.id !== 'mrcp');

    const error = errorOf(() => parseCardContent({ ...raw, cholestaticShift: shift }));

    expect(error.message).toContain('missing the "mrcp" suggestion');
  });

  it('When a card cites a point id that does not exist, loading fails at that field', () => {
    const raw = readRaw();
    const nonHepatic = structuredClone(raw.nonHepaticAlp) as { covers: string[] };
    nonHepatic.covers.push('W9');

    const error = errorOf(() => parseCardContent({ ...raw, nonHepaticAlp: nonHepatic }));

    expect(error.file).toBe('non-hepatic-alp.json');
    expect(error.message).toContain('covers.4');
  });

  it('When a condition group is missing from conditions.json, loading fails', () => {
    const raw = readRaw();
    const conditions = structuredClone(raw.conditions) as { groups: Array<{ id: string }> };
    conditions.groups = conditions.groups.filter((group) => group.id !== 'psc');

    const error = errorOf(() => parseCardContent({ ...raw, conditions }));

    expect(error.file).toBe('conditions.json');
    expect(error.message).toContain('missing group "psc"');
  });

  describe('from a directory', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cards-'));
      for (const file of readdirSync(CARDS_DIR).filter((name) => name.endsWith('.json'))) {
        writeFileSync(join(dir, file), readFileSync(join(CARDS_DIR, file)));
      }
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('When a file is not valid JSON, loading fails and names the file', () => {
      writeFileSync(join(dir, CONTENT_FILES.drugs), '{ "rxnormSystem": ');

      const error = errorOf(() => loadCardContent(dir));

      expect(error.file).toBe('cholestatic-drugs.json');
      expect(error.message).toContain('not valid JSON');
    });

    it('When a file is missing, loading fails and says where it looked', () => {
      rmSync(join(dir, CONTENT_FILES.medicationReview));

      const error = errorOf(() => loadCardContent(dir));

      expect(error.file).toBe('medication-review.json');
      expect(error.message).toContain('file not found');
    });
  });
});
