import { Client, RESPONSE_KEY } from 'fhir-kit-client';
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
  | 'FHIR_MALFORMED';

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
  | 'malformed';

/** A failed FHIR call. The message names the interaction, never the URL's query or the token. */
export class FhirGatewayError extends Error {
  override readonly name = 'FhirGatewayError';

  constructor(
    readonly code: FhirErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Reported after every HTTP attempt, retries included. */
export interface FhirCallEvent {
  durationMs: number;
  status?: number;
  outcome: FhirCallOutcome;
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

export const createFhirGateway: FhirGatewayFactory = (options) => new FhirKitGateway(options);

class FhirKitGateway implements FhirGateway {
  private readonly client: Client;
  private readonly origin: string;
  readonly stats: FhirCallStats = { calls: 0, totalMs: 0 };

  constructor(private readonly options: FhirGatewayOptions) {
    const customHeaders: Record<string, string> = {};
    if (options.accessToken !== undefined) {
      customHeaders.authorization = `Bearer ${options.accessToken}`;
    }
    this.client = new Client({ baseUrl: options.baseUrl, customHeaders });
    this.origin = new URL(options.baseUrl).origin;
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
      const page = await this.get(url, what, pages > 0);
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
      const body = await Promise.race([this.client.request(url, { options: { signal } }), aborted]);
      this.record(started, responseStatusOf(body) ?? 200, 'ok');
      return body;
    } catch (error) {
      const failure = this.classify(
        error,
        what,
        isNextPage,
        isAborted(deadline),
        isAborted(perRequest.signal),
      );
      this.record(started, failure.status, failure.outcome);
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
    const status = httpStatusOf(error);
    if (status === undefined) {
      const code = networkCodeOf(error);
      return {
        error: new FhirGatewayError(
          'FHIR_NETWORK',
          `${what} failed: could not reach the FHIR server${code === undefined ? '' : ` (${code})`}`,
        ),
        outcome: 'network_error',
        retryable: code !== undefined && RETRYABLE_NETWORK_CODES.has(code),
      };
    }
    if (status >= 200 && status < 300) {
      // fhir-kit-client reports a 2xx body it could not parse as JSON this way.
      return {
        error: new FhirGatewayError(
          'FHIR_MALFORMED',
          `${what} returned a body that is not JSON`,
          status,
        ),
        status,
        outcome: 'malformed',
        retryable: false,
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

  private record(started: number, status: number | undefined, outcome: FhirCallOutcome): void {
    const durationMs = performance.now() - started;
    this.stats.calls += 1;
    this.stats.totalMs += durationMs;
    const event: FhirCallEvent = { durationMs, outcome };
    if (status !== undefined) {
      event.status = status;
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

/** fhir-kit-client hides the fetch Response on a success body under RESPONSE_KEY. */
function responseStatusOf(body: unknown): number | undefined {
  const response: unknown = isRecord(body) ? Reflect.get(body, RESPONSE_KEY) : undefined;
  return response instanceof Response ? response.status : undefined;
}

/** fhir-kit-client attaches `response.status` to HTTP failures. */
function httpStatusOf(error: unknown): number | undefined {
  if (isRecord(error) && isRecord(error.response) && typeof error.response.status === 'number') {
    return error.response.status;
  }
  return undefined;
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
