/**
 * A shared store (PostgreSQL, Redis) did not answer. Callers that must not guess — the JWT replay
 * check, feedback — turn it into 503 with Retry-After; callers that can go on without it count it.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  constructor(
    readonly store: 'postgresql' | 'redis',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}

/** Rough heap/wire size of a JSON-able value: the bound stores count, not the item count. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
