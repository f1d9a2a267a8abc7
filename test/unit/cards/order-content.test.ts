import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CardContentError, findCardsDir } from '../../../src/cards/load-content.js';
import {
  ORDER_WARNING_FILE,
  loadOrderWarningContent,
  parseOrderWarningContent,
} from '../../../src/cards/order-content.js';

type Sections = Record<string, Record<string, unknown>>;

const raw = JSON.parse(readFileSync(join(findCardsDir(), ORDER_WARNING_FILE), 'utf8')) as Sections;

function problemsOf(edit: (content: Sections) => void): string[] {
  const copy = structuredClone(raw);
  edit(copy);
  try {
    parseOrderWarningContent(copy);
    return [];
  } catch (error) {
    return error instanceof CardContentError ? error.problems : [String(error)];
  }
}

describe('cards/order-warning.json', () => {
  it('Loads and passes its schema, with the monitoring order coded as the LOINC hepatic panel', () => {
    const content = loadOrderWarningContent();

    expect(content.suggestions.monitor.order.codings[0]?.code).toBe('24325-3');
    expect(content.suggestions.monitor.afterDays).toEqual({ from: 14, to: 28 });
  });

  it('Fails a summary that could pass the CDS Hooks length limit once filled', () => {
    expect(
      problemsOf((content) => {
        content.summary!.warning = `${'x'.repeat(80)} {{drug}} {{alpXUln}} {{alpTrend}}`;
      }),
    ).toEqual([expect.stringMatching(/^summary\.warning: summary can reach \d+ characters/)]);
  });

  it('Fails an unknown slot and a missing threshold, naming the field', () => {
    expect(
      problemsOf((content) => {
        content.phrases!.shift = 'Shift seen on {{date}}';
        delete content.critical!.alpAboveXUln;
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining('critical.alpAboveXUln'),
        expect.stringContaining('phrases.shift: unknown slot {{date}}'),
      ]),
    );
  });
});
