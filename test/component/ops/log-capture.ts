import type { DestinationStream } from 'pino';

/** A pino destination that keeps every line, for asserting on what would reach stdout. */
export interface CapturedLog extends DestinationStream {
  text(): string;
  lines(): Record<string, unknown>[];
}

export function captureLog(): CapturedLog {
  const chunks: string[] = [];
  return {
    write(line: string) {
      chunks.push(line);
    },
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line): Record<string, unknown> => {
          const parsed: unknown = JSON.parse(line);
          return typeof parsed === 'object' && parsed !== null ? { ...parsed } : {};
        }),
  };
}
