/** Wrong arguments: exit 2 with the message and a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The input or the run failed: exit 1 with one line, naming the file and line where there is one. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
}

/** `file:line: message`, the form editors and CI logs make clickable. */
export function atLine(file: string, line: number, message: string): InputError {
  return new InputError(`${file}:${line}: ${message}`);
}

/** Line of the character at `position` in `text` (1-based). */
export function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i += 1) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
    }
  }
  return line;
}

/** JSON.parse with the error turned into `file:line: not JSON (…)`. */
export function parseJsonAt(text: string, file: string, firstLine = 1): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message)?.[1];
    const line =
      position === undefined ? firstLine : firstLine - 1 + lineAt(text, Number(position));
    throw atLine(file, line, `not valid JSON (${message})`);
  }
}
