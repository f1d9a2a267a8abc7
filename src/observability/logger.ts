import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { pinoHttp } from 'pino-http';

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

/** Last line of defence: scrubs anything that looks like a token from a serialised log line. */
export function scrubSecrets(line: string): string {
  return line
    .replace(JWT_PATTERN, REDACTED)
    .replace(SECRET_FIELD_PATTERN, (_m, field: string) => `"${field}":"${REDACTED}"`);
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
  return pino(
    {
      level: options.level,
      name: options.name ?? 'hepatic-trends-cds',
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      base: undefined,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    scrubbing,
  );
}

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

function readLocals(res: ServerResponse): Record<string, unknown> {
  const locals: unknown = 'locals' in res ? res.locals : undefined;
  return typeof locals === 'object' && locals !== null ? { ...locals } : {};
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

function readHookInstance(req: IncomingMessage): string | undefined {
  const body: unknown = 'body' in req ? req.body : undefined;
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
 */
export function createHttpLogger(options: HttpLoggerOptions): RequestHandler {
  const quiet = new Set(options.quietPaths ?? ['/healthz', '/metrics']);
  return pinoHttp({
    logger: options.logger,
    genReqId: assignRequestId,
    // Handler log lines carry only the request id; the completion line carries the rest.
    quietReqLogger: true,
    autoLogging: { ignore: (req) => quiet.has((req.url ?? '').split('?')[0] ?? '') },
    customAttributeKeys: { responseTime: 'durationMs' },
    serializers: {
      req: (req: { method?: unknown; url?: unknown }) => ({
        method: req.method,
        path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
      }),
      res: (res: { statusCode?: unknown }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => {
      if (err !== undefined || res.statusCode >= 500) {
        return 'error';
      }
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    // Called at the start and at the end; only the end knows the outcome, so bind nothing before.
    customProps: (req, res) => {
      if (!res.headersSent) {
        return {};
      }
      const url: unknown = 'originalUrl' in req ? req.originalUrl : req.url;
      const route = typeof url === 'string' ? matchCdsRoute(url) : undefined;
      const locals = readLocals(res);
      const fhir = readFhirStats(locals.fhirStats);
      return {
        service: route?.service,
        feedback: route?.feedback === true ? true : undefined,
        hookInstance: readHookInstance(req),
        fhirCalls: fhir?.calls,
        fhirMs: fhir?.totalMs,
      };
    },
  });
}

/** The per-request child logger when pino-http ran, else the given fallback. */
export function getRequestLogger(req: IncomingMessage, fallback?: Logger): Logger | undefined {
  const log: unknown = 'log' in req ? req.log : undefined;
  return isLogger(log) ? log : fallback;
}

function isLogger(value: unknown): value is Logger {
  return (
    typeof value === 'object' && value !== null && typeof Reflect.get(value, 'info') === 'function'
  );
}
