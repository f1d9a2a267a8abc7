import { jest } from '@jest/globals';
import { shouldRunBrowserTests } from './support/chromium.js';

describe('Browser test guard', () => {
  it('When Chromium is missing on CI, stops the run with an install hint instead of skipping', () => {
    expect(() => shouldRunBrowserTests({ CI: 'true' }, false)).toThrow(
      /apt-get install -y chromium/,
    );
  });

  it('When Chromium is missing locally, skips the browser suites with a loud warning', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(shouldRunBrowserTests({}, false)).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('SKIPPING BROWSER TESTS'));
    warn.mockRestore();
  });

  it('When Chromium is installed, runs the browser suites whatever CI says', () => {
    expect(shouldRunBrowserTests({}, true)).toBe(true);
    expect(shouldRunBrowserTests({ CI: 'true' }, true)).toBe(true);
  });
});
