import { readFileSync } from 'node:fs';
import type { RequestHandler, Request, Response } from 'express';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { z } from 'zod';
import { getRequestLogger } from '../observability/logger.js';
import type { ReplayCache } from '../stores/replay-cache.js';
import { isStoreUnavailable } from '../stores/store-errors.js';

/**
 * CDS Hooks 2.0 names ES384 and RS384 as the algorithms a CDS Client signs with; anything else,
 * in particular `none` and the HMAC family (a shared secret is not an identity), is refused.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export const ACCEPTED_ALGORITHMS = ['ES384', 'RS384'] as const;

const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
/** Upper bound on `now - iat`; a token this old is refused even if its `exp` is far away. */
const MAX_TOKEN_AGE_SEC = 3600;
/**
 * Upper bound on `exp - iat`. CDS Hooks 2.0 recommends a five-minute lifetime; ten leaves room for
 * skew, and keeps the replay cache from being filled with ids that must be remembered for hours.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export const MAX_TOKEN_LIFETIME_SEC = 600;
/** A slow key server must not eat the hook's own deadline; keys are cached for 10 minutes. */
const REMOTE_JWKS_OPTIONS = { timeoutDuration: 2000, cacheMaxAge: 600_000 };

const PublicJwkSchema = z.object({
  kty: z.enum(['EC', 'RSA']),
  kid: z.string().optional(),
  alg: z.enum(ACCEPTED_ALGORITHMS).optional(),
  use: z.string().optional(),
  key_ops: z.array(z.string()).optional(),
  crv: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  d: z.undefined({ error: 'a client JWKS holds public keys only ("d" found)' }).optional(),
});

const HttpUrlSchema = z.url({ protocol: /^https?$/ });

export const CdsClientSchema = z
  .object({
    iss: z.string().min(1),
    jwks_url: HttpUrlSchema.optional(),
    jwks: z.object({ keys: z.array(PublicJwkSchema).min(1) }).optional(),
    jku_allowlist: z.array(HttpUrlSchema).optional(),
    /** FHIR servers (compared by origin) this client may name as `fhirServer`. */
    fhir_servers: z.array(HttpUrlSchema).optional(),
  })
  .strict()
  .refine((c) => (c.jwks_url === undefined) !== (c.jwks === undefined), {
    error: 'give exactly one of "jwks_url" or "jwks"',
  });

export const CdsClientsFileSchema = z
  .array(CdsClientSchema)
  .min(1)
  .refine((clients) => new Set(clients.map((c) => c.iss)).size === clients.length, {
    error: 'each "iss" may appear only once',
  });

export type CdsClient = z.infer<typeof CdsClientSchema>;

/** Reads and validates `CDS_CLIENTS_FILE`; throws one line that says what to fix. */
export function loadCdsClients(filePath: string): CdsClient[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(filePath, 'utf8'));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `CDS_CLIENTS_FILE ${filePath}: cannot read a JSON array of clients (${reason})`,
      { cause: err },
    );
  }
  const parsed = CdsClientsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new Error(`CDS_CLIENTS_FILE ${filePath}: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export interface ClientAuthOptions {
  clients: CdsClient[];
  /** Origin (and optional prefix) the EHR addresses; `aud` must be this plus the path called. */
  publicBaseUrl: string;
  replayCache: ReplayCache;
  clockToleranceSec?: number;
  now?: () => Date;
  /** Used when the request carries no request logger. */
  logger?: Logger;
}

/** Who called, as established from a verified token; set on `res.locals.cdsClient`. */
export interface VerifiedCdsClient {
  iss: string;
  sub?: string;
  tenant?: string;
  /** Origins of the client's `fhir_servers`. */
  fhirServers?: readonly string[];
}

interface ResolvedClient {
  iss: string;
  keys: JWTVerifyGetKey;
  jkuKeys: Map<string, JWTVerifyGetKey>;
  fhirServers?: readonly string[];
}

type Rejection = 'missing' | 'invalid';

/** Why a token was refused, for the log only; the caller learns nothing beyond "invalid". */
class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9_.~+/-]+=*)$/i;

/**
 * Express middleware that admits only CDS Clients presenting a valid signed JWT.
 * Keys come from each client's configured JWKS; a `jku` header is followed only when it is on
 * that client's allowlist, so an attacker cannot point verification at keys of their choosing.
 * @see https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export function createClientAuthenticator(opts: ClientAuthOptions): RequestHandler {
  const tolerance = opts.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  const now = opts.now ?? (() => new Date());
  const baseUrl = opts.publicBaseUrl.replace(/\/+$/, '');
  const clients = new Map<string, ResolvedClient>();
  for (const client of opts.clients) {
    const keys =
      client.jwks !== undefined
        ? createLocalJWKSet(client.jwks)
        : createRemoteJWKSet(new URL(client.jwks_url ?? ''), REMOTE_JWKS_OPTIONS);
    // Remote sets for allowlisted jku values only, built up front so nothing else is ever fetched.
    const jkuKeys = new Map<string, JWTVerifyGetKey>(
      (client.jku_allowlist ?? []).map((url) => [
        url,
        createRemoteJWKSet(new URL(url), REMOTE_JWKS_OPTIONS),
      ]),
    );
    clients.set(client.iss, {
      iss: client.iss,
      keys,
      jkuKeys,
      ...(client.fhir_servers === undefined
        ? {}
        : { fhirServers: client.fhir_servers.map((url) => new URL(url).origin) }),
    });
  }

  const verify = async (req: Request, token: string): Promise<VerifiedCdsClient> => {
    let unverifiedIss: unknown;
    let jku: unknown;
    try {
      jku = decodeProtectedHeader(token).jku;
      unverifiedIss = decodeJwt(token).iss;
    } catch {
      throw new TokenRejected('malformed token');
    }
    // The unverified payload only picks which client's keys to try; nothing else is trusted yet.
    const client = typeof unverifiedIss === 'string' ? clients.get(unverifiedIss) : undefined;
    if (client === undefined) {
      throw new TokenRejected('issuer is not a configured client');
    }
    // Configured keys first: a deployment that pins the EHR's keys needs no outbound call. The
    // jku is followed only when those keys lack the token's kid, and only if it is allowlisted.
    const keys: JWTVerifyGetKey = async (header, input) => {
      try {
        return await client.keys(header, input);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey) || jku === undefined) {
          throw err;
        }
      }
      const allowed = typeof jku === 'string' ? client.jkuKeys.get(jku) : undefined;
      if (allowed === undefined) {
        throw new TokenRejected(
          'kid is not among the configured keys and the jku header is not on the client allowlist',
        );
      }
      return allowed(header, input);
    };
    const audience = `${baseUrl}${req.baseUrl}${req.path}`;
    const currentDate = now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: client.iss,
        audience,
        clockTolerance: tolerance,
        maxTokenAge: MAX_TOKEN_AGE_SEC,
        currentDate,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
        throw new TokenRejected(`${err.code}: ${err.message}; expected audience '${audience}'`);
      }
      throw err;
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.exp === undefined) {
      throw new TokenRejected('jti must be a non-empty string');
    }
    if (payload.iat !== undefined && payload.exp - payload.iat > MAX_TOKEN_LIFETIME_SEC) {
      throw new TokenRejected(
        `token lifetime exp - iat is ${payload.exp - payload.iat} s, above the ${MAX_TOKEN_LIFETIME_SEC} s limit`,
      );
    }
    // Remember the id for as long as the token could still be accepted.
    const forgetAt = new Date((payload.exp + tolerance) * 1000);
    const fresh = await opts.replayCache.checkAndRemember(`${client.iss} ${payload.jti}`, forgetAt);
    if (!fresh) {
      throw new TokenRejected('jti was already used');
    }
    const verified: VerifiedCdsClient = { iss: client.iss };
    if (typeof payload.sub === 'string') {
      verified.sub = payload.sub;
    }
    if (typeof payload.tenant === 'string') {
      verified.tenant = payload.tenant;
    }
    if (client.fhirServers !== undefined) {
      verified.fhirServers = client.fhirServers;
    }
    return verified;
  };

  return (req, res, next) => {
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') {
      logRejection(req, opts.logger, 'no Authorization header');
      rejectRequest(res, 'missing');
      return;
    }
    const match = BEARER.exec(header.trim());
    if (match?.[1] === undefined) {
      logRejection(req, opts.logger, 'Authorization is not a Bearer token');
      rejectRequest(res, 'invalid');
      return;
    }
    verify(req, match[1]).then(
      (client) => {
        res.locals.cdsClient = client;
        next();
      },
      (err: unknown) => {
        // Fail closed but truthfully: a replay check that could not run is a 503, not a bad token.
        if (isStoreUnavailable(err)) {
          next(err);
          return;
        }
        logRejection(req, opts.logger, describeFailure(err));
        rejectRequest(res, 'invalid');
      },
    );
  };
}

function describeFailure(err: unknown): string {
  if (err instanceof TokenRejected) {
    return err.reason;
  }
  if (err instanceof joseErrors.JOSEError) {
    return `${err.code}: ${err.message}`;
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown verification failure';
}

function logRejection(req: Request, fallback: Logger | undefined, reason: string): void {
  getRequestLogger(req, fallback)?.info(
    { authFailure: reason, path: req.path },
    'CDS client authentication failed',
  );
}

/** 401 with the RFC 6750 challenge and an OperationOutcome that names no reason. */
function rejectRequest(res: Response, kind: Rejection): void {
  res
    .status(401)
    .set('WWW-Authenticate', kind === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"')
    .json({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: kind === 'missing' ? 'login' : 'security',
          diagnostics: kind === 'missing' ? 'authentication required' : 'invalid token',
        },
      ],
    });
}
