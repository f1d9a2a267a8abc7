import { z } from 'zod';
import { isLoopbackHost } from './http/loopback.js';

/*
 * The only reader of environment variables. Every key is validated once at start-up; a bad value
 * stops the process with one line that names the variable and what is wrong with it.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SIZE_PATTERN = /^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i;

/** What a variable's parser returns for a value it refuses: the one-line message. */
class Invalid {
  constructor(readonly message: string) {}
}

/** An optional variable: unset or blank gives `fallback`; anything else goes through `parse`. */
function variable<T, F>(fallback: F, parse: (raw: string) => T | Invalid) {
  return z
    .string()
    .trim()
    .optional()
    .transform((raw, ctx): T | F => {
      if (raw === undefined || raw === '') {
        return fallback;
      }
      const value = parse(raw);
      if (value instanceof Invalid) {
        ctx.addIssue({ code: 'custom', message: value.message });
        return z.NEVER;
      }
      return value;
    });
}

function integer(name: string, fallback: number, min: number, max: number, describe: string) {
  return variable(fallback, (raw) => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      return new Invalid(`${name} must be an integer; got '${raw}'`);
    }
    if (value < min || value > max) {
      return new Invalid(`${name} must be between ${min} and ${max}; got ${value}`);
    }
    return value;
  }).describe(describe);
}

function parseFlag(name: string) {
  return (raw: string): boolean | Invalid => {
    const value = raw.toLowerCase();
    if (value === 'true' || value === '1' || value === 'false' || value === '0') {
      return value === 'true' || value === '1';
    }
    return new Invalid(`${name} must be one of true|false|1|0; got '${raw}'`);
  };
}

function flag(name: string, describe: string) {
  return variable(undefined, parseFlag(name)).describe(describe);
}

/** Comma-separated http(s) origins, each reduced to `scheme://host[:port]`. */
const OriginListSchema = variable(undefined, (raw) => {
  const origins: string[] = [];
  for (const item of raw.split(',').map((part) => part.trim())) {
    const url = parseUrl(item);
    const bare = url !== undefined && (url.pathname === '/' || url.pathname === '') && !url.search;
    if (url === undefined || !/^https?:$/.test(url.protocol) || !bare || url.username !== '') {
      return new Invalid(
        `FHIR_SERVER_ALLOWLIST must list origins such as https://ehr.example.org; got '${item}'`,
      );
    }
    origins.push(url.origin);
  }
  return origins;
}).describe('FHIR server origins (comma-separated) the service may fetch missing prefetch from');

function connectionUrl(name: string, protocols: readonly string[]) {
  return variable(undefined, (raw) => {
    const url = parseUrl(raw);
    // The message never repeats the value: it may hold a password.
    if (url === undefined || !protocols.includes(url.protocol)) {
      return new Invalid(
        `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      );
    }
    return raw;
  });
}

function secret(name: string, minLength: number) {
  return variable(undefined, (raw) =>
    raw.length < minLength
      ? new Invalid(`${name} must be at least ${minLength} characters long`)
      : raw,
  );
}

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

const EnvSchema = z
  .object({
    PORT: integer('PORT', 3000, 0, 65535, 'TCP port to listen on (0 picks a free port)'),
    HOST: variable('0.0.0.0', (raw) => raw).describe(
      'Interface to bind; 0.0.0.0 listens on all interfaces',
    ),
    PUBLIC_BASE_URL: variable(undefined, (raw) => {
      const url = parseUrl(raw);
      if (url === undefined) {
        return new Invalid(`PUBLIC_BASE_URL must be an absolute http(s) URL; got '${raw}'`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return new Invalid(`PUBLIC_BASE_URL must use http or https; got '${url.protocol}'`);
      }
      return raw.replace(/\/+$/, '');
    }).describe(
      'Externally visible base URL (no trailing slash); the JWT audience and the base of links in cards',
    ),
    LOG_LEVEL: variable('info' as const, (raw) => {
      const value = raw.toLowerCase();
      return isOneOf(value, LOG_LEVELS)
        ? value
        : new Invalid(`LOG_LEVEL must be one of ${LOG_LEVELS.join('|')}; got '${raw}'`);
    }).describe(`pino log level: ${LOG_LEVELS.join('|')}`),
    FHIR_TIMEOUT_MS: integer(
      'FHIR_TIMEOUT_MS',
      3000,
      1,
      120_000,
      'Timeout of each request to the FHIR server, in milliseconds',
    ),
    FHIR_MAX_PAGES: integer(
      'FHIR_MAX_PAGES',
      10,
      1,
      1000,
      'Most pages of one FHIR search that are followed through Bundle next links',
    ),
    LOOKBACK_DAYS: integer(
      'LOOKBACK_DAYS',
      180,
      1,
      3650,
      'How many days of laboratory history the analysis looks at',
    ),
    MAX_BODY: variable('1mb', (raw) =>
      SIZE_PATTERN.test(raw)
        ? raw
        : new Invalid(`MAX_BODY must be a byte count or a size such as 512kb or 1mb; got '${raw}'`),
    ).describe('Largest accepted request body (bytes, or a size such as 512kb or 1mb)'),
    EMBEDDED_FHIR: variable(true, parseFlag('EMBEDDED_FHIR')).describe(
      'Serve the embedded in-memory FHIR server with demo data under /fhir',
    ),
    HOOK_DEADLINE_MS: integer(
      'HOOK_DEADLINE_MS',
      5000,
      1,
      600_000,
      'Overall deadline for all FHIR calls made while answering one hook call, in milliseconds',
    ),
    CDS_CLIENTS_FILE: variable(undefined, (raw) => raw).describe(
      'Path of the file that lists the CDS clients trusted to call hooks (JWT issuers and keys)',
    ),
    TREND_LINK_TTL_SECONDS: integer(
      'TREND_LINK_TTL_SECONDS',
      900,
      1,
      86_400,
      'Lifetime of a trend-page link placed in a card, in seconds',
    ),
    // ---- transport safety: relay allowlist, exposure, embedded server, response and socket limits
    NODE_ENV: z
      .string()
      .trim()
      .optional()
      .describe('production turns on the safe defaults (read-only embedded server, no open mode)'),
    FHIR_SERVER_ALLOWLIST: OriginListSchema,
    ALLOW_INSECURE_FHIR: flag(
      'ALLOW_INSECURE_FHIR',
      'Allow plain-http fhirServer origins other than loopback (default false)',
    ),
    ALLOW_OPEN_MODE: flag(
      'ALLOW_OPEN_MODE',
      'Start in production on a public interface without CDS_CLIENTS_FILE (default false)',
    ),
    EMBEDDED_FHIR_READONLY: flag(
      'EMBEDDED_FHIR_READONLY',
      'Refuse writes to the embedded FHIR server after the demo load (default true in production)',
    ),
    EMBEDDED_FHIR_MAX_RESOURCES: integer(
      'EMBEDDED_FHIR_MAX_RESOURCES',
      20_000,
      1,
      10_000_000,
      'Most resources the embedded FHIR server stores, demo data included',
    ),
    FHIR_MAX_RESPONSE_BYTES: integer(
      'FHIR_MAX_RESPONSE_BYTES',
      10 * 1024 * 1024,
      1024,
      1024 * 1024 * 1024,
      'Largest FHIR response body read per request (one page); larger ones are aborted',
    ),
    HEADERS_TIMEOUT_MS: integer(
      'HEADERS_TIMEOUT_MS',
      10_000,
      100,
      600_000,
      'Time a client has to send the request headers, in milliseconds',
    ),
    REQUEST_TIMEOUT_MS: integer(
      'REQUEST_TIMEOUT_MS',
      30_000,
      100,
      3_600_000,
      'Time a client has to send the whole request, in milliseconds',
    ),
    DATABASE_URL: connectionUrl('DATABASE_URL', ['postgres:', 'postgresql:']).describe(
      'PostgreSQL for feedback and the card issuance log (postgres://user:pass@host:5432/db); unset: in memory',
    ),
    REDIS_URL: connectionUrl('REDIS_URL', ['redis:', 'rediss:']).describe(
      'Redis for the JWT replay cache and trend links (redis://host:6379); unset: in memory',
    ),
    ADMIN_TOKEN: secret('ADMIN_TOKEN', 24).describe(
      'Bearer token for /admin/feedback routes (at least 24 characters); unset: admin routes off',
    ),
    PATIENT_ID_HASH_KEY: secret('PATIENT_ID_HASH_KEY', 32).describe(
      'Key of the patient-id hash in the card issuance log (at least 32 characters); unset: generated once and kept in the database',
    ),
  })
  .transform((env, ctx) => {
    const production = env.NODE_ENV === 'production';
    const insecure = env.ALLOW_INSECURE_FHIR ?? false;
    const plainHttp = (env.FHIR_SERVER_ALLOWLIST ?? []).find(
      (origin) => origin.startsWith('http:') && !isLoopbackHost(new URL(origin).hostname),
    );
    if (plainHttp !== undefined && !insecure) {
      ctx.addIssue({
        code: 'custom',
        path: ['FHIR_SERVER_ALLOWLIST'],
        message: `FHIR_SERVER_ALLOWLIST lists ${plainHttp} over plain http; use https or set ALLOW_INSECURE_FHIR=true`,
      });
      return z.NEVER;
    }
    if (
      production &&
      env.CDS_CLIENTS_FILE === undefined &&
      !isLoopbackHost(env.HOST) &&
      env.ALLOW_OPEN_MODE !== true
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `Refusing to start: NODE_ENV=production, HOST=${env.HOST} is not loopback and CDS_CLIENTS_FILE is not set, so anyone could call the hooks; set CDS_CLIENTS_FILE, bind HOST=127.0.0.1, or set ALLOW_OPEN_MODE=true`,
      });
      return z.NEVER;
    }
    return {
      ...env,
      ALLOW_INSECURE_FHIR: insecure,
      ALLOW_OPEN_MODE: env.ALLOW_OPEN_MODE ?? false,
      EMBEDDED_FHIR_READONLY: env.EMBEDDED_FHIR_READONLY ?? production,
      PUBLIC_BASE_URL:
        env.PUBLIC_BASE_URL ??
        `http://${env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : bracketIpv6(env.HOST)}:${env.PORT}`,
    };
  });

export type Config = Readonly<z.output<typeof EnvSchema>>;

/** Key → human description, for documentation and `--help`-style output. */
export const configDescriptions: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(EnvSchema.in.shape).map(([key, schema]) => [key, schema.description ?? '']),
  ),
);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses and freezes the configuration; throws `ConfigError` whose message is one line. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path[0];
    const message = issue?.message ?? 'invalid configuration';
    throw new ConfigError(
      typeof key === 'string' && !message.startsWith(key) ? `${key} ${message}` : message,
    );
  }
  return Object.freeze(result.data);
}

/**
 * Loads `.env` from the working directory into the process environment when it exists, as
 * `.env.example` promises. Variables already set in the environment keep their values. Returns
 * whether a file was read; a file that exists but cannot be read is a `ConfigError`.
 */
export function loadDotEnvFile(path = '.env'): boolean {
  try {
    process.loadEnvFile(path);
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      return false;
    }
    throw new ConfigError(
      `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return allowed.some((candidate) => candidate === value);
}

function bracketIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
