import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';
import { isRecord } from '../fhir/guards.js';
import { isStoreUnavailable } from '../stores/store-errors.js';

/** Stable error codes; callers branch on these, never on message text. */
export type CdsErrorCode =
  | 'INVALID_REQUEST'
  | 'MALFORMED_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'HOOK_MISMATCH'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNKNOWN_SERVICE'
  | 'NOT_FOUND'
  | 'FHIR_DATA_UNAVAILABLE'
  | 'INVALID_RESPONSE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

/** HTTP status per code. 412 is the status CDS Hooks 2.0 prescribes when FHIR data cannot be obtained. */
export const STATUS_BY_CODE: Readonly<Record<CdsErrorCode, number>> = {
  INVALID_REQUEST: 400,
  MALFORMED_JSON: 400,
  HOOK_MISMATCH: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNKNOWN_SERVICE: 404,
  NOT_FOUND: 404,
  FHIR_DATA_UNAVAILABLE: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_RESPONSE: 500,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** FHIR IssueType per code, so an OperationOutcome reader can classify the failure. */
const ISSUE_TYPE_BY_CODE: Readonly<Record<CdsErrorCode, fhir4.OperationOutcomeIssue['code']>> = {
  INVALID_REQUEST: 'invalid',
  MALFORMED_JSON: 'structure',
  HOOK_MISMATCH: 'invalid',
  UNAUTHORIZED: 'login',
  FORBIDDEN: 'forbidden',
  UNKNOWN_SERVICE: 'not-found',
  NOT_FOUND: 'not-found',
  FHIR_DATA_UNAVAILABLE: 'incomplete',
  PAYLOAD_TOO_LARGE: 'too-long',
  UNSUPPORTED_MEDIA_TYPE: 'not-supported',
  INVALID_RESPONSE: 'exception',
  STORE_UNAVAILABLE: 'transient',
  INTERNAL: 'exception',
};

/** Seconds a client is asked to wait (`Retry-After`) when a shared store is unavailable. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** One problem with one field; `path` is dotted (`context.patientId`, `prefetch.labs`). */
export interface CdsIssue {
  path?: string;
  message: string;
}

export interface CdsErrorOptions {
  issues?: CdsIssue[];
  cause?: unknown;
  /** Overrides the default IssueType (e.g. `timeout` for a FHIR deadline). */
  issueType?: fhir4.OperationOutcomeIssue['code'];
}

/** An error whose message is safe to show to the CDS client; never put tokens or PHI in it. */
export class CdsError extends Error {
  override readonly name = 'CdsError';
  readonly code: CdsErrorCode;
  readonly status: number;
  readonly issues: readonly CdsIssue[];
  readonly issueType: fhir4.OperationOutcomeIssue['code'];

  constructor(code: CdsErrorCode, message: string, options: CdsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = STATUS_BY_CODE[code];
    this.issues = options.issues ?? [];
    this.issueType = options.issueType ?? ISSUE_TYPE_BY_CODE[code];
  }
}

export function isCdsError(value: unknown): value is CdsError {
  return value instanceof CdsError;
}

/** Dotted path of a zod issue, with array indices in brackets: `cards[0].source.label`. */
export function formatIssuePath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
    } else {
      out += out === '' ? String(segment) : `.${String(segment)}`;
    }
  }
  return out;
}

/** Turns zod issues into a 400 that names every offending field and what is wrong with it. */
export function invalidRequestFrom(error: ZodError, prefix = '', what = 'request body'): CdsError {
  const issues = error.issues.map((issue) => ({
    path: formatIssuePath(issue.path, prefix) || undefined,
    message: issue.message,
  }));
  const first = issues[0];
  const summary =
    first === undefined
      ? `Invalid ${what}`
      : `Invalid ${what}: ${first.path === undefined ? '' : `${first.path}: `}${first.message}`;
  return new CdsError('INVALID_REQUEST', summary, { issues });
}

export interface HttpError {
  status: number;
  body: fhir4.OperationOutcome;
  /** True when the failure is ours (5xx) and deserves an error-level log line. */
  internal: boolean;
  /** Sent as `Retry-After` (503 only). */
  retryAfterSeconds?: number;
}

/**
 * The one place where anything thrown becomes an HTTP answer: an OperationOutcome, never HTML and
 * never a stack trace. Unknown errors become a generic 500 that carries only the request id.
 */
export function toHttpError(error: unknown, requestId?: string): HttpError {
  if (isStoreUnavailable(error) || (isCdsError(error) && error.code === 'STORE_UNAVAILABLE')) {
    // Transient and nobody's fault but ours: say so and when to retry, without internals.
    return {
      status: 503,
      body: operationOutcome('transient', 'A shared state store is unavailable; retry shortly'),
      internal: true,
      retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
    };
  }
  const known = isCdsError(error) ? error : fromBodyParserError(error);
  if (known === undefined || known.status >= 500) {
    const reference = requestId === undefined ? '' : ` (request id ${requestId})`;
    const code: CdsErrorCode = known?.code ?? 'INTERNAL';
    return {
      status: STATUS_BY_CODE[code],
      body: operationOutcome('exception', `Internal error${reference}`),
      internal: true,
    };
  }
  const issues: fhir4.OperationOutcomeIssue[] =
    known.issues.length === 0
      ? [issueOf(known.issueType, known.message)]
      : known.issues.map((issue) =>
          issueOf(known.issueType, issue.message, issue.path === undefined ? [] : [issue.path]),
        );
  return {
    status: known.status,
    body: { resourceType: 'OperationOutcome', issue: issues },
    internal: false,
  };
}

export function operationOutcome(
  type: fhir4.OperationOutcomeIssue['code'],
  diagnostics: string,
  expression: string[] = [],
): fhir4.OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [issueOf(type, diagnostics, expression)] };
}

function issueOf(
  type: fhir4.OperationOutcomeIssue['code'],
  diagnostics: string,
  expression: string[] = [],
): fhir4.OperationOutcomeIssue {
  const issue: fhir4.OperationOutcomeIssue = { severity: 'error', code: type, diagnostics };
  if (expression.length > 0) {
    issue.expression = expression;
  }
  return issue;
}

/** express's body parser signals its failures with `type` and `status` fields. */
function fromBodyParserError(error: unknown): CdsError | undefined {
  if (!isRecord(error)) {
    return undefined;
  }
  // A body that fails to decompress and a path with a broken %-escape arrive as client errors
  // (4xx, `expose`) without a `type`; they are the caller's fault, not a 500.
  if (typeof error.type !== 'string') {
    const status = error.status;
    const clientFault = error.expose === true || error.name === 'URIError';
    return clientFault && typeof status === 'number' && status >= 400 && status < 500
      ? new CdsError('INVALID_REQUEST', 'Request could not be decoded')
      : undefined;
  }
  switch (error.type) {
    case 'entity.parse.failed':
      return new CdsError('MALFORMED_JSON', 'Request body is not valid JSON');
    case 'entity.too.large':
      return new CdsError(
        'PAYLOAD_TOO_LARGE',
        `Request body is larger than the limit of ${typeof error.limit === 'number' ? `${error.limit} bytes` : 'MAX_BODY'}`,
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new CdsError('UNSUPPORTED_MEDIA_TYPE', 'Request body encoding is not supported');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return new CdsError('INVALID_REQUEST', 'Request body could not be read');
    default:
      return undefined;
  }
}

export interface ErrorHandlerOptions {
  /** Called for 5xx errors only, with the original error; never sent to the client. */
  onInternalError?: (error: unknown, requestId: string | undefined) => void;
}

/** The app's final error handler: everything thrown or passed to `next(err)` ends here. */
export function createErrorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const requestId = requestIdOf(req.id, res.getHeader('x-request-id'));
    const http = toHttpError(error, requestId);
    if (http.internal) {
      options.onInternalError?.(error, requestId);
    }
    if (http.retryAfterSeconds !== undefined) {
      res.set('Retry-After', String(http.retryAfterSeconds));
    }
    res.status(http.status).type('application/json').json(http.body);
  };
}

/** JSON 404 for any route nobody handled. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new CdsError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

function requestIdOf(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && candidate !== '') {
      return candidate;
    }
    if (typeof candidate === 'number') {
      return String(candidate);
    }
  }
  return undefined;
}
