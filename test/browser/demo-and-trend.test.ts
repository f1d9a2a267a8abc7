import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, shouldRunBrowserTests } from './support/chromium.js';
import { startService, type RunningService } from './support/service.js';

// Drives the demo EHR and the trend page in Debian's Chromium against the whole service in-process.
// The tests share one page and run in order, like a clinician's session.

const ARTIFACTS = join(process.cwd(), 'artifacts', 'browser');
const CLASSIC_PATIENT = 'htc-demo-classic';
const BROWSER_TIMEOUT_MS = 60_000;
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core in the page; returns the serious and critical violations only. The pages' CSP
 * (script-src 'self') rightly blocks an inline script, so axe is served from a same-origin URL that
 * the browser context intercepts; the CSP stays on for the whole test.
 */
async function findSeriousViolations(page: Page, baseUrl: string): Promise<string[]> {
  const axeUrl = `${baseUrl}/__test__/axe.min.js`;
  await page.route(axeUrl, (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: axeSource }),
  );
  await page.addScriptTag({ url: axeUrl });
  const { violations, passes } = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<unknown> } })
      .axe;
    const results = (await axe.run(document)) as { violations: AxeViolation[]; passes: unknown[] };
    return { violations: results.violations, passes: results.passes.length };
  });
  if (passes === 0) {
    throw new Error('axe-core checked nothing; the page was probably empty');
  }
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`,
    );
}

async function hasHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
  );
}

const describeInBrowser = shouldRunBrowserTests(process.env) ? describe : describe.skip;

describeInBrowser('Demo EHR and trend page in Chromium', () => {
  let service: RunningService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let trendPage: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    service = await startService();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    context.on('page', (p) => p.on('pageerror', (error) => pageErrors.push(error.message)));
    page = await context.newPage();
  }, BROWSER_TIMEOUT_MS);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await service?.close();
  });

  it(
    'When the clinician opens the classic-shift patient, the EHR shows the liver panel and a cholestatic-shift card with its indicator',
    async () => {
      await page.goto(`${service.baseUrl}/`);
      await page.locator(`#patient-select option[value="${CLASSIC_PATIENT}"]`).waitFor({
        state: 'attached',
      });
      const patientIds = await page
        .locator('#patient-select option')
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
      expect(patientIds.filter((id) => id.startsWith('htc-demo-')).length).toBeGreaterThanOrEqual(
        6,
      );

      await page.selectOption('#patient-select', CLASSIC_PATIENT);
      await page.getByRole('button', { name: 'Open chart' }).click();
      await page.locator('#hook-status[data-state="done"]').waitFor();

      expect(await page.locator('#patient-banner').innerText()).toMatch(/ulcerative colitis/i);
      const labHeaders = await page.locator('table.labs thead th').allInnerTexts();
      expect(labHeaders.join(' ')).toMatch(/ALP/);
      expect(await page.locator('table.labs tbody tr').count()).toBeGreaterThanOrEqual(4);

      const cards = page.locator('article.card');
      expect(await cards.count()).toBeGreaterThanOrEqual(1);
      const main = cards.first();
      const summary = await main.locator('.card-summary').innerText();
      expect(summary).toMatch(/ALP/);
      expect(summary.length).toBeLessThan(140);
      const indicator = await main.getAttribute('data-indicator');
      expect(['info', 'warning']).toContain(indicator);
      // The indicator is spelled out, not shown by colour alone.
      expect(await main.locator('.indicator').innerText()).toMatch(/Info|Warning/);
      expect(await main.locator('.card-source').innerText()).toMatch(/Source: \S+/);
      const suggestions = await main.locator('button.suggestion').allInnerTexts();
      expect(suggestions.join(' | ')).toMatch(/ultrasound/i);
      expect(suggestions.join(' | ')).toMatch(/MRCP/i);
      // Markdown detail was rendered to HTML, and nothing executable survived the sanitiser.
      expect(await main.locator('.card-detail').innerHTML()).toMatch(/<(p|table|ul|strong)\b/);
      expect(await main.locator('.card-detail script, .card-detail [onerror]').count()).toBe(0);

      await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the clinician clicks the ultrasound suggestion, the EHR shows the draft ServiceRequest and the service records accepted feedback',
    async () => {
      const main = page.locator('article.card').first();
      await main
        .locator('button.suggestion', { hasText: /ultrasound/i })
        .first()
        .click();
      const json = main.locator('.resource-json[data-resource-type="ServiceRequest"]').first();
      await json.waitFor();
      const resource: unknown = JSON.parse(await json.innerText());
      expect(resource).toMatchObject({
        resourceType: 'ServiceRequest',
        status: 'draft',
        subject: { reference: `Patient/${CLASSIC_PATIENT}` },
      });
      await main.locator('.feedback-result[data-result]').waitFor();
      expect(await main.locator('.feedback-result').getAttribute('data-result')).toBe('accepted');

      const cardUuid = await main.getAttribute('data-card-uuid');
      const stored = await service.feedbackStore.list();
      expect(stored).toContainEqual(
        expect.objectContaining({
          item: expect.objectContaining({ card: cardUuid, outcome: 'accepted' }),
        }),
      );
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the demo page is checked with axe-core, it has no serious or critical accessibility violations',
    async () => {
      expect(await findSeriousViolations(page, service.baseUrl)).toEqual([]);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the clinician overrides the card with a reason, the service accepts the overridden feedback',
    async () => {
      const main = page.locator('article.card').first();
      const cardUuid = await main.getAttribute('data-card-uuid');
      const reasons = await main.locator('.override select option').allInnerTexts();
      expect(reasons.length).toBeGreaterThanOrEqual(2);
      await main.locator('.override select').selectOption({ index: 1 });
      await main.locator('.override input').fill('Seen in clinic last week');
      await main.locator('.feedback-result').evaluate((el) => el.removeAttribute('data-result'));
      await main.getByRole('button', { name: 'Override' }).click();
      await main.locator('.feedback-result[data-result]').waitFor();
      expect(await main.locator('.feedback-result').getAttribute('data-result')).toBe('accepted');
      expect(await main.locator('.feedback-result').innerText()).toMatch(/accepted/i);

      const overridden = (await service.feedbackStore.list()).filter(
        (s) => s.item.card === cardUuid && s.item.outcome === 'overridden',
      );
      expect(overridden).toHaveLength(1);
      expect(overridden[0].item.overrideReason?.reason?.display).toBe(reasons[1]);
      expect(overridden[0].item.overrideReason?.userComment).toBe('Seen in clinic last week');
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the demo page is narrowed to a 400 px side panel, nothing scrolls sideways',
    async () => {
      await page.setViewportSize({ width: 400, height: 800 });
      expect(await hasHorizontalScroll(page)).toBe(false);
      await page.setViewportSize({ width: 1000, height: 900 });
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the clinician follows the trend link, the chart shows one series per analyte in the tables, with fitted trends and R',
    async () => {
      const link = page.locator('article.card .card-links a', { hasText: /trend/i }).first();
      const href = await link.getAttribute('href');
      expect(href).toMatch(new RegExp(`^${service.baseUrl}/trends/[A-Za-z0-9_-]{32}$`));
      expect(href).not.toContain(CLASSIC_PATIENT);

      [trendPage] = await Promise.all([context.waitForEvent('page'), link.click()]);
      await trendPage.locator('#trend-figure[data-ready="true"]').waitFor();

      const tableAnalytes = await trendPage
        .locator('table.values')
        .evaluateAll((tables) => tables.map((t) => t.getAttribute('data-analyte')));
      const charted = await trendPage.locator('#trend-figure').getAttribute('data-series');
      expect(charted?.split(',')).toEqual(tableAnalytes);
      expect(tableAnalytes).toEqual(expect.arrayContaining(['ALP', 'AST', 'ALT', 'GGT']));
      const datasetLabels = await trendPage.evaluate(() =>
        (
          window as unknown as { hepaticTrendChart: { data: { datasets: { label: string }[] } } }
        ).hepaticTrendChart.data.datasets.map((d) => d.label),
      );
      expect(datasetLabels.filter((label) => !label.endsWith(' trend'))).toHaveLength(
        tableAnalytes.length,
      );
      expect(
        (await trendPage.locator('#trend-figure').getAttribute('data-trend-lines'))?.split(','),
      ).toEqual(expect.arrayContaining(['ALP', 'AST', 'ALT']));
      expect(await trendPage.locator('[data-r="first"]').innerText()).toMatch(/\d/);
      expect(await trendPage.locator('[data-r="last"]').innerText()).toMatch(/cholestatic|mixed/);

      const response = await fetch(href ?? '');
      expect(response.headers.get('cache-control')).toBe('no-store');
      await trendPage.screenshot({ path: join(ARTIFACTS, 'trend-page.png'), fullPage: true });
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the trend page is checked with axe-core, it has no serious or critical accessibility violations',
    async () => {
      expect(await findSeriousViolations(trendPage, service.baseUrl)).toEqual([]);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the trend page is shown in a 400 px side panel, the chart fits and nothing scrolls sideways',
    async () => {
      await trendPage.setViewportSize({ width: 400, height: 800 });
      await trendPage.waitForFunction(() => {
        const canvas = document.getElementById('trend-chart');
        return canvas !== null && canvas.getBoundingClientRect().width <= 400;
      });
      expect(await hasHorizontalScroll(trendPage)).toBe(false);
      await trendPage.screenshot({ path: join(ARTIFACTS, 'trend-page-400px.png'), fullPage: true });
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When a trend link has expired, the page says so and how to get a fresh one',
    async () => {
      const response = await trendPage.goto(`${service.baseUrl}/trends/${'A'.repeat(32)}`);
      expect(response?.status()).toBe(410);
      expect(await trendPage.locator('h1').innerText()).toMatch(/expired/i);
      expect(await trendPage.locator('main').innerText()).toMatch(/re-open the patient/i);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When a chart has results without a reference range, the flowsheet flags every value above its ULN (the default for the patient) and no value at or below it',
    async () => {
      await page.selectOption('#patient-select', 'htc-demo-cirrhosis');
      await page.getByRole('button', { name: 'Open chart' }).click();
      await page.locator('#hook-status[data-state="done"]').waitFor();
      await page.locator('table.labs tbody tr').first().waitFor();

      const cells = await page.locator('table.labs tbody td.num').evaluateAll((tds) =>
        tds
          .filter((td) => (td.textContent ?? '').trim() !== '')
          .map((td) => ({
            text: (td.textContent ?? '').replace(/\s*H$/, '').trim(),
            flagged: td.querySelector('abbr.flag') !== null,
            title: td.getAttribute('title') ?? '',
          })),
      );
      const flagOf = (text: string) => cells.find((cell) => cell.text === text)?.flagged;
      // AST 93 U/L and bilirubin 1.4 mg/dL carry no range: above any adult default, so flagged.
      expect(flagOf('93 U/L')).toBe(true);
      expect(flagOf('1.4 mg/dL')).toBe(true);
      // ALP 126 U/L sits under its own range's 129 U/L.
      expect(flagOf('126 U/L')).toBe(false);
      // Every value the service resolved a limit for is flagged exactly when it lies above it.
      const judged = cells.flatMap((cell) => {
        const match = /ULN ([0-9.]+) .*; ([0-9.]+)×ULN/.exec(cell.title);
        return match === null ? [] : [{ ...cell, above: Number(match[2]) > 1 }];
      });
      expect(judged.filter((cell) => cell.above !== cell.flagged)).toEqual([]);
      expect(judged.length).toBeGreaterThan(20);
      expect(cells.map((cell) => cell.text).join(' ')).not.toMatch(/\b(u|mc|mu)(mol|kat)\b/);
    },
    BROWSER_TIMEOUT_MS,
  );

  it('When the pages ran, no script error was thrown in the browser', () => {
    expect(pageErrors).toEqual([]);
  });
});
