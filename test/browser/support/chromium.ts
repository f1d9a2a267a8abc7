import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium package; playwright's own browser download is not used. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on a machine with no internet: without the background-networking
 * switches it keeps trying to reach update and sync hosts.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumAvailable = existsSync(CHROMIUM_PATH);

/**
 * Whether the browser suites run. On CI (CI set) a missing Chromium is a failure, never a silent
 * skip; locally the suites are skipped with a loud warning.
 */
export function shouldRunBrowserTests(
  env: Readonly<Record<string, string | undefined>>,
  available = chromiumAvailable,
): boolean {
  if (available) {
    return true;
  }
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') {
    throw new Error(
      `Browser tests need Chromium at ${CHROMIUM_PATH} (CI is set, so they cannot be skipped). ` +
        'Install it with: apt-get install -y chromium',
    );
  }
  console.warn(
    `\n*** SKIPPING BROWSER TESTS: no Chromium at ${CHROMIUM_PATH}. ` +
      'Install it (apt-get install -y chromium) to run test/browser. ***\n',
  );
  return false;
}

/** Starts Chromium; playwright gives every launch a fresh, throw-away profile directory. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
