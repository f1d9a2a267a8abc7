import { isBundle, isFhirResource, isRecord, matchEntriesOf, nextLinkOf } from './guards.js';

/** Why a FHIR call failed; branch on this, never on the message. */
export type FhirErrorCode =
  | 'FHIR_UNAUTHORIZED'
  | 'FHIR_FORBIDDEN'
  | 'FHIR_NOT_FOUND'
  | 'FHIR_GONE'
  | 'FHIR_SERVER_ERROR'
  | 'FHIR_HTTP_ERROR'
  | 'FHIR_TIMEOUT'
  | 'FHIR_DEADLINE'
  | 'FHIR_NETWORK'
  | 'FHIR_MALFORMED'
  | 'FHIR_TOO_LARGE';

/** Label recorded for each HTTP attempt (metrics, logs); a closed set. */
export type FhirCallOutcome =
  | 'ok'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'gone'
  | 'server_error'
  | 'http_error'
  | 'timeout'
  | 'deadline'
  | 'network_error'
  | 'malformed'
  | 'too_large';

/** A failed FHIR call. The message names the interaction, never the URL's query or the token. */
export class FhirGatewayError extends Error {
  override readonly name = 'FhirGatewayError';

  constructor(
    readonly code: FhirErrorCode,
    message: string,
    readonly status?: number,
    /** Transport detail (socket error code, parser message) for the log only, never a response. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Reported after every HTTP attempt, retries included. */
export interface FhirCallEvent {
  durationMs: number;
  status?: number;
  outcome: FhirCallOutcome;
  /** Transport detail of a failure (e.g. ECONNREFUSED), for the log only. */
  detail?: string;
}

export interface FhirCallStats {
  calls: number;
  totalMs: number;
}

/** Read and search access to the CDS client's FHIR server for one hook invocation. */
export interface FhirGateway {
  /** `Type/id` read. */
  read(relativeUrl: string): Promise<fhir4.Resource>;
  /**
   * Search (`Type?params`), following `next` links verbatim up to the page limit and merging the
   * pages into one searchset Bundle of `match` entries. A truncated result carries the SUBSETTED tag.
   */
  search(relativeUrl: string): Promise<fhir4.Bundle>;
  readonly stats: Readonly<FhirCallStats>;
}

export interface FhirGatewayOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; omitted for open servers. */
  accessToken?: string;
  /** Limit for each HTTP request. */
  timeoutMs: number;
  /** Most pages followed for one search. */
  maxPages: number;
  /** Largest response body read for one request (one page); 10 MB when absent. */
  maxResponseBytes?: number;
  /** Aborts every call of the invocation once the overall hook deadline passes. */
  deadline?: AbortSignal;
  onFhirCall?: (event: FhirCallEvent) => void;
  /** Wait before the single retry; random jitter by default. */
  retryDelayMs?: () => number;
}

export type FhirGatewayFactory = (options: FhirGatewayOptions) => FhirGateway;

/** The tag FHIR uses to say a result is incomplete. */
export const SUBSETTED_TAG: fhir4.Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
  display: 'subsetted',
};

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export const createFhirGateway: FhirGatewayFactory = (options) => new FetchGateway(options);

/**
 * Plain `fetch` rather than fhir-kit-client: its `response.text()` would buffer a body of any size
 * before we could refuse it, so the body is streamed here and abandoned at the byte cap.
 */
class FetchGateway implements FhirGateway {
  private readonly headers: Record<string, string>;
  private readonly origin: string;
  private readonly maxResponseBytes: number;
  readonly stats: FhirCallStats = { calls: 0, totalMs: 0 };

  constructor(private readonly options: FhirGatewayOptions) {
    this.headers = { accept: 'application/fhir+json' };
    if (options.accessToken !== undefined) {
      this.headers.authorization = `Bearer ${options.accessToken}`;
    }
    this.origin = new URL(options.baseUrl).origin;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  async read(relativeUrl: string): Promise<fhir4.Resource> {
    const body = await this.get(relativeUrl, describe(relativeUrl, 'read'));
    if (!isFhirResource(body)) {
      throw new FhirGatewayError(
        'FHIR_MALFORMED',
        `${describe(relativeUrl, 'read')} did not return a FHIR resource`,
      );
    }
    return body;
  }

  async search(relativeUrl: string): Promise<fhir4.Bundle> {
    try {
      return await this.searchOnce(relativeUrl);
    } catch (error) {
      // HAPI expires cached search pages (410 Gone); the only remedy is to run the search again.
      if (error instanceof FhirGatewayError && error.code === 'FHIR_GONE') {
        return this.searchOnce(relativeUrl);
      }
      throw error;
    }
  }

  private async searchOnce(relativeUrl: string): Promise<fhir4.Bundle> {
    const what = describe(relativeUrl, 'search');
    const entries: fhir4.BundleEntry[] = [];
    let url: string | undefined = relativeUrl;
    let pages = 0;
    let truncated = false;
    while (url !== undefined) {
      if (pages === this.options.maxPages) {
        truncated = true;
        break;
      }
      let page: unknown;
      try {
        page = await this.get(url, what, pages > 0);
      } catch (error) {
        // An oversized later page ends the search with what was read so far, marked incomplete.
        if (pages > 0 && error instanceof FhirGatewayError && error.code === 'FHIR_TOO_LARGE') {
          truncated = true;
          break;
        }
        throw error;
      }
      if (!isBundle(page) || page.type !== 'searchset') {
        throw new FhirGatewayError('FHIR_MALFORMED', `${what} did not return a searchset Bundle`);
      }
      pages += 1;
      entries.push(...matchEntriesOf(page));
      url = this.followable(nextLinkOf(page), what);
    }
    const merged: fhir4.Bundle = { resourceType: 'Bundle', type: 'searchset', entry: entries };
    if (truncated) {
      merged.meta = { tag: [SUBSETTED_TAG] };
    }
    return merged;
  }

  /** Next links are used verbatim, but only on the same origin, so the token never leaves it. */
  private followable(next: string | undefined, what: string): string | undefined {
    if (next === undefined) {
      return undefined;
    }
    let target: URL;
    try {
      target = new URL(next, this.options.baseUrl);
    } catch {
      throw new FhirGatewayError('FHIR_MALFORMED', `${what} returned an unusable next link`);
    }
    if (target.origin !== this.origin) {
      throw new FhirGatewayError(
        'FHIR_MALFORMED',
        `${what} returned a next link to another server`,
      );
    }
    return target.href;
  }

  /** One GET with the per-request timeout, the shared deadline, and one retry on 5xx or reset. */
  private async get(url: string, what: string, isNextPage = false): Promise<unknown> {
    try {
      return await this.attempt(url, what, isNextPage);
    } catch (error) {
      if (!(error instanceof RetryableError)) {
        throw error;
      }
      await this.pause(this.options.retryDelayMs?.() ?? 50 + Math.random() * 150);
      const second = await this.attempt(url, what, isNextPage).catch((retryError: unknown) => {
        throw retryError instanceof RetryableError ? retryError.final : retryError;
      });
      return second;
    }
  }

  private async attempt(url: string, what: string, isNextPage: boolean): Promise<unknown> {
    const deadline = this.options.deadline;
    if (deadline?.aborted === true) {
      throw new FhirGatewayError(
        'FHIR_DEADLINE',
        `${what} was not attempted: the hook deadline passed`,
      );
    }
    const perRequest = new AbortController();
    const signal =
      deadline === undefined ? perRequest.signal : AbortSignal.any([perRequest.signal, deadline]);
    // Racing the abort as well as passing the signal bounds the wait even if a transport ignores it.
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new AbortedError());
    });
    aborted.catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => perRequest.abort(), this.options.timeoutMs);
    const started = performance.now();
    try {
      const body = await Promise.race([this.fetchJson(url, what, signal), aborted]);
      this.record(started, 200, 'ok');
      return body;
    } catch (error) {
      const failure = this.classify(
        error,
        what,
        isNextPage,
        isAborted(deadline),
        isAborted(perRequest.signal),
      );
      this.record(started, failure.status, failure.outcome, failure.error.detail);
      throw failure.retryable ? new RetryableError(failure.error) : failure.error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private classify(
    error: unknown,
    what: string,
    isNextPage: boolean,
    deadlinePassed: boolean,
    timedOut: boolean,
  ): { error: FhirGatewayError; status?: number; outcome: FhirCallOutcome; retryable: boolean } {
    if (deadlinePassed) {
      return {
        error: new FhirGatewayError(
          'FHIR_DEADLINE',
          `${what} did not finish before the hook deadline`,
        ),
        outcome: 'deadline',
        retryable: false,
      };
    }
    if (timedOut) {
      return {
        error: new FhirGatewayError(
          'FHIR_TIMEOUT',
          `${what} timed out after ${this.options.timeoutMs} ms`,
        ),
        outcome: 'timeout',
        retryable: false,
      };
    }
    if (error instanceof FhirGatewayError) {
      // Already classified while reading the body (too large, not JSON).
      const outcome: FhirCallOutcome = error.code === 'FHIR_TOO_LARGE' ? 'too_large' : 'malformed';
      return {
        error,
        ...(error.status === undefined ? {} : { status: error.status }),
        outcome,
        retryable: false,
      };
    }
    const status = error instanceof HttpStatusError ? error.status : undefined;
    if (status === undefined) {
      const code = networkCodeOf(error);
      // The socket error code goes to the log through `detail`; the client learns only that it failed.
      return {
        error: new FhirGatewayError(
          'FHIR_NETWORK',
          `${what} failed: could not reach the FHIR server`,
          undefined,
          code ?? (error instanceof Error ? error.message : undefined),
        ),
        outcome: 'network_error',
        retryable: code !== undefined && RETRYABLE_NETWORK_CODES.has(code),
      };
    }
    const [code, outcome, text] = describeStatus(status, isNextPage);
    return {
      error: new FhirGatewayError(
        code,
        `${what} failed: the FHIR server answered ${status} ${text}`,
        status,
      ),
      status,
      outcome,
      retryable: status >= 500,
    };
  }

  /** One GET; the body is read up to the byte cap and parsed as JSON. */
  private async fetchJson(url: string, what: string, signal: AbortSignal): Promise<unknown> {
    // Redirects are not followed: an allowed server must not be able to send us somewhere else.
    const response = await fetch(this.expand(url), {
      headers: this.headers,
      signal,
      redirect: 'manual',
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new HttpStatusError(response.status);
    }
    const text = await readCapped(response, this.maxResponseBytes, what);
    if (text === '') {
      return {};
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new FhirGatewayError(
        'FHIR_MALFORMED',
        `${what} returned a body that is not JSON`,
        response.status,
        error instanceof Error ? error.message : undefined,
      );
    }
  }

  private expand(url: string): string {
    if (/^https?:/i.test(url)) {
      return url;
    }
    const base = this.options.baseUrl.replace(/\/+$/, '');
    return `${base}/${url.replace(/^\/+/, '')}`;
  }

  private record(
    started: number,
    status: number | undefined,
    outcome: FhirCallOutcome,
    detail?: string,
  ): void {
    const durationMs = performance.now() - started;
    this.stats.calls += 1;
    this.stats.totalMs += durationMs;
    const event: FhirCallEvent = { durationMs, outcome };
    if (status !== undefined) {
      event.status = status;
    }
    if (detail !== undefined) {
      event.detail = detail;
    }
    this.options.onFhirCall?.(event);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.options.deadline?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** A function, not a property read, so TypeScript does not keep an earlier narrowing of it. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

class RetryableError extends Error {
  constructor(readonly final: FhirGatewayError) {
    super(final.message);
  }
}

class AbortedError extends Error {}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * The body as text, streamed and abandoned as soon as it passes `max` bytes (a declared
 * Content-Length above it is refused before reading), so one huge Bundle costs neither the
 * memory nor the event-loop time of parsing it.
 */
async function readCapped(response: Response, max: number, what: string): Promise<string> {
  const tooLarge = () =>
    new FhirGatewayError(
      'FHIR_TOO_LARGE',
      `${what} returned more than the ${max}-byte response limit`,
      response.status,
    );
  const declared = Number(response.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) {
    return '';
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function describeStatus(
  status: number,
  isNextPage: boolean,
): [FhirErrorCode, FhirCallOutcome, string] {
  switch (status) {
    case 401:
      return [
        'FHIR_UNAUTHORIZED',
        'unauthorized',
        '(unauthorized: token missing, expired or rejected)',
      ];
    case 403:
      return ['FHIR_FORBIDDEN', 'forbidden', '(forbidden: the token does not grant this access)'];
    case 404:
      return ['FHIR_NOT_FOUND', 'not_found', '(not found)'];
    case 410:
      return ['FHIR_GONE', 'gone', isNextPage ? '(gone: the search page expired)' : '(gone)'];
    default:
      return status >= 500
        ? ['FHIR_SERVER_ERROR', 'server_error', '(server error)']
        : ['FHIR_HTTP_ERROR', 'http_error', '(request rejected)'];
  }
}

/** fetch wraps socket errors in `cause`; look a few levels down for a system error code. */
function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isRecord(current); depth += 1) {
    if (typeof current.code === 'string') {
      return current.code;
    }
    current = current.cause;
  }
  return undefined;
}

/** "Observation search" / "Patient read": enough to say what failed without query values (PHI). */
function describe(relativeUrl: string, interaction: 'read' | 'search'): string {
  const type = /^\/?([A-Za-z]+)/.exec(relativeUrl)?.[1] ?? 'FHIR';
  return `${type} ${interaction}`;
}
