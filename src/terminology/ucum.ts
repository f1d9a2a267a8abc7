import ucum from '@lhncbc/ucum-lhc';
import type { ConvertUnitResult, ValidateUnitResult } from '@lhncbc/ucum-lhc';

/*
 * The one door to @lhncbc/ucum-lhc. When its parser throws, the library prints the unit string it was
 * given to stdout with console.log: that line would bypass the logger's redaction, and a unit string
 * holding a newline and JSON could forge a log line. Its calls are synchronous, so the console is
 * silenced for exactly their duration; everything the library has to say is also in the returned `msg`.
 */

const utils = ucum.UcumLhcUtils.getInstance();
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
const discard = (): void => undefined;

function quietly<T>(call: () => T): T {
  const saved = CONSOLE_METHODS.map((name) => console[name]);
  for (const name of CONSOLE_METHODS) {
    console[name] = discard;
  }
  try {
    return call();
  } finally {
    CONSOLE_METHODS.forEach((name, i) => {
      console[name] = saved[i] ?? discard;
    });
  }
}

export function validateUcum(code: string): ValidateUnitResult {
  return quietly(() => utils.validateUnitString(code, false));
}

export function convertUcum(
  from: string,
  value: number,
  to: string,
  molecularWeight: number | null,
): ConvertUnitResult {
  return quietly(() => utils.convertUnitTo(from, value, to, { molecularWeight }));
}
