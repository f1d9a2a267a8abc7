import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, shouldRunBrowserTests } from './support/chromium.js';
import { startService, type RunningService } from './support/service.js';

// Drives the demo EHR's "Order a medication" panel in Chromium against the whole service in-process:
// order-select on choosing a drug, order-sign on "Sign", and the suggestions applied to the order list.

const CLASSIC_PATIENT = 'htc-demo-classic';
const CONTROL_PATIENT = 'htc-demo-control';
const BROWSER_TIMEOUT_MS = 60_000;

const describeInBrowser = shouldRunBrowserTests(process.env) ? describe : describe.skip;

describeInBrowser('Demo EHR order panel in Chromium', () => {
  let service: RunningService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    service = await startService();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, BROWSER_TIMEOUT_MS);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await service?.close();
  });

  async function openChart(patientId: string) {
    if (!page.url().startsWith(service.baseUrl)) {
      await page.goto(`${service.baseUrl}/`);
    }
    await page.locator(`#patient-select option[value="${patientId}"]`).waitFor({
      state: 'attached',
    });
    await page.locator('#hook-status').evaluate((el) => {
      delete (el as HTMLElement).dataset.state;
    });
    await page.selectOption('#patient-select', patientId);
    await page.getByRole('button', { name: 'Open chart' }).click();
    await page.locator('#hook-status[data-state="done"]').waitFor();
    await page.locator('#order-select:not([disabled])').waitFor();
  }

  /** Waits for the order hook to answer; clears the marker first so an old answer cannot count. */
  async function orderHookDone(hook: 'order-select' | 'order-sign', act: () => Promise<void>) {
    await page.locator('#order-status').evaluate((el) => {
      delete (el as HTMLElement).dataset.state;
      delete (el as HTMLElement).dataset.hook;
    });
    await act();
    await page.locator(`#order-status[data-state="done"][data-hook="${hook}"]`).waitFor();
  }

  const orderCards = () => page.locator('#order-cards article.card');
  const draftItems = () => page.locator('#draft-orders li[data-reference]');

  it(
    'When amoxicillin–clavulanate is chosen for the classic-shift patient, order-select returns a warning naming the drug and ALP ×ULN',
    async () => {
      await openChart(CLASSIC_PATIENT);

      await orderHookDone('order-select', () =>
        page.selectOption('#order-select', 'amoxicillin-clavulanate').then(() => undefined),
      );

      expect(await draftItems().allInnerTexts()).toEqual([
        expect.stringMatching(/Amoxicillin–clavulanate .*draft MedicationRequest/),
      ]);
      expect(await orderCards().count()).toBe(1);
      const card = orderCards().first();
      expect(['warning', 'critical']).toContain(await card.getAttribute('data-indicator'));
      expect(await card.locator('.card-summary').innerText()).toMatch(
        /Amoxicillin–clavulanate.*ALP is \d+(\.\d)?×ULN/,
      );
      expect(await card.locator('.card-links a').first().getAttribute('href')).toMatch(
        /ncbi\.nlm\.nih\.gov\/books\/NBK547852/,
      );
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When the clinician accepts "Remove this draft order", the draft leaves the order list',
    async () => {
      await orderCards()
        .first()
        .locator('button.suggestion', { hasText: 'Remove this draft order' })
        .click();

      await page.locator('#draft-orders li[data-resource-type="MedicationRequest"]').waitFor({
        state: 'detached',
      });
      expect(await draftItems().count()).toBe(0);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When it is chosen again and signed, order-sign warns, and "Keep and monitor" adds the hepatic panel order',
    async () => {
      await orderHookDone('order-select', () =>
        page.selectOption('#order-select', 'amoxicillin-clavulanate').then(() => undefined),
      );
      await orderHookDone('order-sign', () =>
        page.getByRole('button', { name: 'Sign', exact: true }).click(),
      );
      expect(await orderCards().count()).toBe(1);

      await orderCards()
        .first()
        .locator('button.suggestion', { hasText: 'Keep the order and monitor' })
        .click();

      await page.locator('#draft-orders li[data-resource-type="ServiceRequest"]').waitFor();
      const items = await draftItems().allInnerTexts();
      expect(items).toEqual([
        expect.stringMatching(/Amoxicillin–clavulanate/),
        expect.stringMatching(/Hepatic function panel.*draft ServiceRequest/),
      ]);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When a harmless drug is chosen and signed, neither hook gives a card and the order is signed',
    async () => {
      await openChart(CLASSIC_PATIENT);

      await orderHookDone('order-select', () =>
        page.selectOption('#order-select', 'lisinopril').then(() => undefined),
      );
      expect(await orderCards().count()).toBe(0);
      await orderHookDone('order-sign', () =>
        page.getByRole('button', { name: 'Sign', exact: true }).click(),
      );

      expect(await orderCards().count()).toBe(0);
      expect(await page.locator('#draft-orders li.signed').allInnerTexts()).toEqual([
        expect.stringMatching(/Lisinopril/),
      ]);
    },
    BROWSER_TIMEOUT_MS,
  );

  it(
    'When amoxicillin–clavulanate is chosen for the patient with normal, stable liver tests, no card appears',
    async () => {
      await openChart(CONTROL_PATIENT);

      await orderHookDone('order-select', () =>
        page.selectOption('#order-select', 'amoxicillin-clavulanate').then(() => undefined),
      );

      expect(await orderCards().count()).toBe(0);
      expect(pageErrors).toEqual([]);
    },
    BROWSER_TIMEOUT_MS,
  );
});
