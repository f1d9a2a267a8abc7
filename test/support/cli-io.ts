import { Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/cli-error.js';

export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

/** In-process standard streams for the command line; `stdin` holds `input`. */
export function captureIo(input = ''): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text), isTTY: false },
    stdin: Readable.from([Buffer.from(input)]),
    out: () => out,
    err: () => err,
  };
}
