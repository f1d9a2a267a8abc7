import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pino } from 'pino';
import type { DestinationStream, Level, Logger, LoggerOptions } from 'pino';
import { TRENDS_PATH } from '../trend/publisher.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** Request id: a well-formed `X-Request-Id` or a fresh UUID; set by the HTTP logger. */
    id?: string;
    /** Logger bound to the request id; created on first use, so most requests never build one. */
    log: Logger;
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Structured paths that may carry credentials or patient data. Bodies are never logged on purpose;
 * these paths catch a handler that passes one to the logger anyway.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'access_token',
  '*.access_token',
  '*.*.access_token',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'prefetch',
  '*.prefetch',
  'context',
  '*.context',
  'body',
  '*.body',
];

const REDACTED = '[Redacted]';
// Base64url of '{"' is 'eyJ', so every compact JWS/JWT starts with it.
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const SECRET_FIELD_PATTERN =
  /"(access_token|refresh_token|id_token|authorization)"\s*:\s*"(?:[^"\\]|\\.)*"/gi;
// A trend-link id (32 base64url characters) opens a patient's trend page, so it never reaches a log.
// Hex strings of that length (hashes) are left alone: a random id is all-hex about once in 10^15.
const TREND_LINK_ID_PATTERN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])/g;
const HEX = /^[0-9A-Fa-f]+$/;
const TRENDS_PREFIX = `${TRENDS_PATH}/`;

/** Last line of defence: scrubs anything that looks like a token from a serialised log line. */
export function scrubSecrets(line: string): string {
  return line
    .replace(JWT_PATTERN, REDACTED)
    .replace(SECRET_FIELD_PATTERN, (_m, field: string) => `"${field}":"${REDACTED}"`)
    .replace(TREND_LINK_ID_PATTERN, (token) => (HEX.test(token) ? token : REDACTED));
}

/**
 * The path as logged: scrubbed, and with everything after `/trends/` removed (the router matches it
 * case-insensitively and decodes it, so an encoded id would slip past the scrubber).
 */
function loggablePath(path: string): string {
  return path.length > TRENDS_PREFIX.length &&
    path.slice(0, TRENDS_PREFIX.length).toLowerCase() === TRENDS_PREFIX
    ? `${path.slice(0, TRENDS_PATH.length)}/${REDACTED}`
    : scrubSecrets(path);
}

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Where JSON lines go; stdout when absent. Tests pass a capturing stream. */
  destination?: DestinationStream;
  name?: string;
}

/**
 * The service's one root logger. Redaction works at two levels: pino's path redaction for the
 * known fields, then a line filter that removes any JWT-shaped string or token field wherever a
 * careless log call put it (messages, error texts, nested objects).
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const target = options.destination ?? pino.destination({ dest: 1, sync: false });
  const scrubbing: DestinationStream = {
    write(line: string) {
      target.write(scrubSecrets(line));
    },
  };
  const shared: LoggerOptions = {
    level: options.level,
    name: options.name ?? 'hepatic-trends-cds',
    base: undefined,
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = pino(
    { ...shared, redact: { paths: REDACTED_PATHS, censor: REDACTED } },
    scrubbing,
  );
  // Same stream and format, without either safeguard: only for lines built from vetted fields.
  accessLoggers.set(logger, pino(shared, target));
  return logger;
}

/**
 * Root logger → its sibling for request-completion lines. Those lines are written once per request
 * and made only of fields checked or scrubbed in `createHttpLogger`, so path redaction and the line
 * filter (together about a tenth of the hook path's CPU time when every line went through them)
 * would find nothing in them.
 */
const accessLoggers = new WeakMap<Logger, Logger>();

/** FHIR traffic of one request, set on `res.locals.fhirStats` by whoever calls the FHIR server. */
export interface FhirCallStats {
  calls: number;
  totalMs: number;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const CDS_PATH = /^\/cds-services\/([^/?#]+)(\/feedback)?\/?(?:[?#].*)?$/;
const UUID_LIKE = /^[0-9A-Za-z-]{1,64}$/;

/** `{ service, feedback }` when the URL addresses a CDS service, else undefined. */
export function matchCdsRoute(url: string): { service: string; feedback: boolean } | undefined {
  const match = CDS_PATH.exec(url);
  if (match?.[1] === undefined) {
    return undefined;
  }
  let service = match[1];
  try {
    service = decodeURIComponent(service);
  } catch {
    // keep the raw segment; the router will answer 404 for it anyway
  }
  return { service: service.slice(0, 64), feedback: match[2] !== undefined };
}

function readFhirStats(value: unknown): FhirCallStats | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const calls: unknown = Reflect.get(value, 'calls');
  const totalMs: unknown = Reflect.get(value, 'totalMs');
  return typeof calls === 'number' && typeof totalMs === 'number'
    ? { calls, totalMs: Math.round(totalMs * 10) / 10 }
    : undefined;
}

/** From `res.locals.hookInstance` once the CDS router has read the request, else from the raw body. */
function readHookInstance(
  req: IncomingMessage,
  locals: Record<string, unknown>,
): string | undefined {
  const body: unknown =
    typeof locals.hookInstance === 'string' ? locals : 'body' in req ? req.body : undefined;
  if (typeof body !== 'object' || body === null) {
    return undefined;
  }
  const value: unknown = Reflect.get(body, 'hookInstance');
  return typeof value === 'string' && UUID_LIKE.test(value) ? value : undefined;
}

/** Request id from a well-formed `X-Request-Id`, else a new UUID; echoed on the response. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id =
    typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

export interface HttpLoggerOptions {
  logger: Logger;
  /** Paths not worth a line each (probes, scrapes). */
  quietPaths?: string[];
}

/**
 * One JSON line per finished request: id, method, path (no query string), status, duration,
 * CDS service id, hookInstance and FHIR call count/time. Headers and bodies are never serialised.
 * The URL is the one untrusted string in the line, so the path and the service id taken from it are
 * scrubbed of tokens here; everything else is a number or checked against a narrow pattern.
 */
export function createHttpLogger(options: HttpLoggerOptions): RequestHandler {
  const quiet = new Set(options.quietPaths ?? ['/healthz', '/metrics']);
  const root = options.logger;
  const access = accessLoggers.get(root) ?? root;
  return (req, res, next) => {
    const startedAt = performance.now();
    const id = assignRequestId(req, res);
    req.id = id;
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: false,
      get: () => (child ??= root.child({ reqId: id })),
    });
    const url = req.originalUrl;
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (quiet.has(path)) {
      next();
      return;
    }
    const finish = (aborted: boolean) => {
      const status = res.statusCode;
      const level: Level = aborted || status >= 400 ? (status >= 500 ? 'error' : 'warn') : 'info';
      if (!access.isLevelEnabled(level)) {
        return;
      }
      // Scrubbed before the service id is cut out of it: a cut token no longer looks like one.
      const safePath = loggablePath(path);
      const route = matchCdsRoute(safePath);
      const fhir = readFhirStats(res.locals.fhirStats);
      access[level](
        {
          reqId: id,
          req: { method: req.method, path: safePath },
          res: { statusCode: status },
          durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
          service: route === undefined ? undefined : scrubSecrets(route.service),
          feedback: route?.feedback === true ? true : undefined,
          hookInstance: readHookInstance(req, res.locals),
          fhirCalls: fhir?.calls,
          fhirMs: fhir?.totalMs,
        },
        aborted ? 'request aborted' : status >= 500 ? 'request errored' : 'request completed',
      );
    };
    res.once('close', () => finish(!res.writableFinished));
    next();
  };
}

/** The per-request logger when the HTTP logger ran, else the given fallback. */
export function getRequestLogger(req: IncomingMessage, fallback?: Logger): Logger | undefined {
  const log: unknown = 'log' in req ? req.log : undefined;
  return isLogger(log) ? log : fallback;
}

function isLogger(value: unknown): value is Logger {
  return (
    typeof value === 'object' && value !== null && typeof Reflect.get(value, 'info') === 'function'
  );
}
