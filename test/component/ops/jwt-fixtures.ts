import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';

export interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
  alg: 'ES384' | 'RS384';
}

export async function buildSigningKey(
  alg: 'ES384' | 'RS384',
  kid = randomUUID(),
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicJwk, kid, alg };
}

export interface TokenOverrides {
  claims?: JWTPayload;
  header?: Record<string, unknown>;
  /** Seconds relative to now; defaults issue now and expire in 5 minutes. */
  iatOffset?: number;
  expOffset?: number;
  omit?: ('jti' | 'exp' | 'iat' | 'aud' | 'iss')[];
}

/** A CDS Hooks client JWT as an EHR would send it. */
export async function signClientToken(
  key: SigningKey,
  iss: string,
  aud: string,
  overrides: TokenOverrides = {},
): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss,
    sub: 'ehr-client',
    aud,
    iat: nowSec + (overrides.iatOffset ?? 0),
    exp: nowSec + (overrides.expOffset ?? 300),
    jti: randomUUID(),
    ...overrides.claims,
  };
  const omitted = new Set<string>(overrides.omit ?? []);
  const kept = Object.fromEntries(Object.entries(claims).filter(([name]) => !omitted.has(name)));
  return new SignJWT(kept)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...overrides.header })
    .sign(key.privateKey);
}

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsecured JWT (`alg: none`), which no verifier may accept. */
export function buildUnsecuredToken(iss: string, aud: string): string {
  const nowSec = Math.floor(Date.now() / 1000);
  const payload = { iss, aud, iat: nowSec, exp: nowSec + 300, jti: randomUUID() };
  return `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment(payload)}.`;
}

/** Serves JWK Sets on loopback and counts how often each path was fetched. */
export interface JwksHost {
  url(path: string): string;
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startJwksHost(sets: Record<string, { keys: JWK[] }>): Promise<JwksHost> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const set = sets[path];
    if (set === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(set));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hits: (path) => hits.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
