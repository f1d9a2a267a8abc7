import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Express } from 'express';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import request from 'supertest';
import { createClientAuthenticator, loadCdsClients } from '../../../src/http/client-auth.js';
import type { CdsClient } from '../../../src/http/client-auth.js';
import { createMemoryReplayCache } from '../../../src/stores/replay-cache.js';
import {
  buildSigningKey,
  buildUnsecuredToken,
  signClientToken,
  startJwksHost,
} from './jwt-fixtures.js';
import type { JwksHost, SigningKey } from './jwt-fixtures.js';

const BASE = 'https://cds.example.org';
const SERVICE_PATH = '/cds-services/liver-trends';
const AUD = `${BASE}${SERVICE_PATH}`;
const INLINE_ISS = 'https://ehr.example.org';
const REMOTE_ISS = 'https://remote-ehr.example.org';

/** Reasons the authenticator logged, newest last. */
const loggedReasons: string[] = [];
const reasonLog = pino(
  { level: 'info' },
  {
    write(line: string) {
      const parsed: unknown = JSON.parse(line);
      const reason: unknown =
        typeof parsed === 'object' && parsed !== null
          ? Reflect.get(parsed, 'authFailure')
          : undefined;
      loggedReasons.push(typeof reason === 'string' ? reason : '');
    },
  },
);

function buildApp(clients: CdsClient[]): Express {
  const app = express();
  app.use(express.json());
  const authenticate = createClientAuthenticator({
    clients,
    publicBaseUrl: `${BASE}/`,
    replayCache: createMemoryReplayCache(),
    logger: reasonLog,
  });
  app.get('/cds-services', (_req, res) => {
    res.json({ services: [] });
  });
  app.post('/cds-services/:id', authenticate, (_req, res) => {
    res.json({ cards: [], caller: res.locals.cdsClient });
  });
  app.post('/cds-services/:id/feedback', authenticate, (_req, res) => {
    res.json({});
  });
  return app;
}

const post = (app: Express, token?: string, path = SERVICE_PATH) => {
  const req = request(app).post(path).send({ hook: 'patient-view' });
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
};

describe('CDS client JWT authentication', () => {
  let ehrKey: SigningKey;
  let remoteKey: SigningKey;
  let jkuKey: SigningKey;
  let host: JwksHost;
  let app: Express;

  beforeAll(async () => {
    ehrKey = await buildSigningKey('ES384');
    remoteKey = await buildSigningKey('RS384');
    jkuKey = await buildSigningKey('ES384');
    host = await startJwksHost({
      '/remote.json': { keys: [remoteKey.publicJwk] },
      '/rotated.json': { keys: [jkuKey.publicJwk] },
      '/attacker.json': { keys: [jkuKey.publicJwk] },
      '/spare.json': { keys: [jkuKey.publicJwk] },
    });
    app = buildApp([
      {
        iss: INLINE_ISS,
        jwks: {
          keys: [
            {
              kty: 'EC',
              alg: 'ES384',
              kid: ehrKey.kid,
              crv: ehrKey.publicJwk.crv,
              x: ehrKey.publicJwk.x,
              y: ehrKey.publicJwk.y,
            },
          ],
        },
        jku_allowlist: [host.url('/rotated.json'), host.url('/spare.json')],
      },
      { iss: REMOTE_ISS, jwks_url: host.url('/remote.json') },
    ]);
  });

  afterAll(async () => {
    await host.close();
  });

  it('When an EHR sends a correctly signed ES384 token for the endpoint it calls, the hook runs and learns who called', async () => {
    const token = await signClientToken(ehrKey, INLINE_ISS, AUD);
    const res = await post(app, token).expect(200);
    expect(res.body.caller).toEqual({ iss: INLINE_ISS, sub: 'ehr-client' });
  });

  it('When the client keys live at a JWKS URL, an RS384 token signed with them is accepted', async () => {
    const token = await signClientToken(remoteKey, REMOTE_ISS, AUD);
    const res = await post(app, token).expect(200);
    expect(res.body.caller.iss).toBe(REMOTE_ISS);
    expect(host.hits('/remote.json')).toBeGreaterThan(0);
  });

  it('When the token names an allowlisted jku, keys are taken from that set', async () => {
    const token = await signClientToken(jkuKey, INLINE_ISS, AUD, {
      header: { jku: host.url('/rotated.json') },
    });
    const res = await post(app, token).expect(200);
    expect(res.body.caller.iss).toBe(INLINE_ISS);
    expect(host.hits('/rotated.json')).toBeGreaterThan(0);
  });

  it('When feedback is posted with a token for the feedback endpoint, it is accepted', async () => {
    const path = `${SERVICE_PATH}/feedback`;
    const token = await signClientToken(ehrKey, INLINE_ISS, `${BASE}${path}`);
    const res = await post(app, token, path).expect(200);
    expect(res.body).toEqual({});
  });

  it('When no Authorization header is sent, answers 401 with a bare Bearer challenge', async () => {
    const res = await post(app).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', diagnostics: 'authentication required' }],
    });
  });

  const rejected: [string, () => Promise<string>, RegExp][] = [
    [
      'an unsecured token (alg none)',
      async () => buildUnsecuredToken(INLINE_ISS, AUD),
      /ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/,
    ],
    [
      'an HS256 token',
      async () =>
        new SignJWT({ iss: INLINE_ISS, aud: AUD, jti: 'h1' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256')),
      /ERR_JOSE_ALG_NOT_ALLOWED/,
    ],
    [
      'a token for another endpoint (wrong aud)',
      () => signClientToken(ehrKey, INLINE_ISS, `${BASE}/cds-services/other-service`),
      /"aud" claim/,
    ],
    [
      'a token for another host (wrong aud)',
      () => signClientToken(ehrKey, INLINE_ISS, `https://evil.example${SERVICE_PATH}`),
      /"aud" claim/,
    ],
    [
      'an expired token',
      () => signClientToken(ehrKey, INLINE_ISS, AUD, { iatOffset: -600, expOffset: -120 }),
      /ERR_JWT_EXPIRED: "exp"/,
    ],
    [
      'a token issued in the future',
      () => signClientToken(ehrKey, INLINE_ISS, AUD, { iatOffset: 600 }),
      /"iat" claim/,
    ],
    [
      'a token without jti',
      () => signClientToken(ehrKey, INLINE_ISS, AUD, { omit: ['jti'] }),
      /missing required "jti"/,
    ],
    [
      'a token without exp',
      () => signClientToken(ehrKey, INLINE_ISS, AUD, { omit: ['exp'] }),
      /missing required "exp"/,
    ],
    [
      'a token from an unknown iss',
      () => signClientToken(ehrKey, 'https://stranger.example', AUD),
      /issuer is not a configured client/,
    ],
    [
      'a token signed by a key the claimed iss does not own',
      () => signClientToken(remoteKey, INLINE_ISS, AUD),
      /ERR_JWKS_NO_MATCHING_KEY/,
    ],
    [
      'a token whose jku is not on the allowlist',
      () =>
        signClientToken(jkuKey, INLINE_ISS, AUD, { header: { jku: host.url('/attacker.json') } }),
      /jku header is not on the client allowlist/,
    ],
    ['a string that is not a JWT', async () => 'not-a-token', /malformed token/],
    [
      'a token that lives longer than 10 minutes (exp - iat)',
      () => signClientToken(ehrKey, INLINE_ISS, AUD, { expOffset: 3600 }),
      /lifetime exp - iat is 3600 s, above the 600 s limit/,
    ],
  ];

  it.each(rejected)(
    'When the EHR sends %s, answers 401 invalid_token and logs the reason only server-side',
    async (_label, make, reason) => {
      const res = await post(app, await make()).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(res.body).toEqual({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'security', diagnostics: 'invalid token' }],
      });
      expect(loggedReasons.at(-1)).toMatch(reason);
    },
  );

  it('When a jku is not allowlisted, the service never fetches it', async () => {
    const token = await signClientToken(jkuKey, INLINE_ISS, AUD, {
      header: { jku: host.url('/attacker.json') },
    });
    await post(app, token).expect(401);
    expect(host.hits('/attacker.json')).toBe(0);
  });

  it('When the audience does not match, the log names the audience the service expected', async () => {
    const token = await signClientToken(ehrKey, INLINE_ISS, `${BASE}/cds-services/other-service`);
    await post(app, token).expect(401);
    expect(loggedReasons.at(-1)).toContain(`expected audience '${AUD}'`);
  });

  it('When the configured keys hold the kid, the token is verified with them and its jku is never fetched', async () => {
    const withStrangeJku = await signClientToken(ehrKey, INLINE_ISS, AUD, {
      header: { jku: host.url('/attacker.json') },
    });
    const withAllowedJku = await signClientToken(ehrKey, INLINE_ISS, AUD, {
      header: { jku: host.url('/spare.json') },
    });
    await post(app, withStrangeJku).expect(200);
    await post(app, withAllowedJku).expect(200);
    expect(host.hits('/attacker.json')).toBe(0);
    expect(host.hits('/spare.json')).toBe(0);
  });

  it('When the same token is replayed, the second call gets 401', async () => {
    const token = await signClientToken(ehrKey, INLINE_ISS, AUD);
    await post(app, token).expect(200);
    const res = await post(app, token).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(loggedReasons.at(-1)).toBe('jti was already used');
  });

  it('When the Authorization scheme is not Bearer, answers 401 invalid_token', async () => {
    await request(app)
      .post(SERVICE_PATH)
      .set('Authorization', 'Basic dXNlcjpwYXNz')
      .send({})
      .expect(401)
      .expect('WWW-Authenticate', 'Bearer error="invalid_token"');
  });

  it('When discovery is called without a token, it still answers', async () => {
    await request(app).get('/cds-services').expect(200);
  });
});

describe('CDS clients file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cds-clients-'));
  const writeClients = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('When the file lists a JWKS URL client and an inline JWKS client with a jku allowlist, both load', () => {
    const path = writeClients(
      'ok.json',
      JSON.stringify([
        { iss: 'https://a.example', jwks_url: 'https://a.example/jwks.json' },
        {
          iss: 'https://b.example',
          jwks: { keys: [{ kty: 'EC', crv: 'P-384', x: 'x', y: 'y', kid: 'k1' }] },
          jku_allowlist: ['https://b.example/jwks.json'],
        },
      ]),
    );
    expect(loadCdsClients(path).map((c) => c.iss)).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it.each([
    ['not JSON', '{', /cannot read a JSON array/],
    ['an empty list', '[]', /\(top level\)/],
    [
      'a client with neither jwks nor jwks_url',
      '[{"iss":"x"}]',
      /exactly one of "jwks_url" or "jwks"/,
    ],
    [
      'a client with both jwks and jwks_url',
      '[{"iss":"x","jwks_url":"https://x/j","jwks":{"keys":[{"kty":"EC"}]}}]',
      /exactly one/,
    ],
    ['a JWKS URL that is not a URL', '[{"iss":"x","jwks_url":"nope"}]', /0\.jwks_url/],
    [
      'a symmetric key',
      '[{"iss":"x","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}]',
      /0\.jwks\.keys\.0\.kty/,
    ],
    [
      'a private key',
      '[{"iss":"x","jwks":{"keys":[{"kty":"EC","crv":"P-384","x":"a","y":"b","d":"c"}]}}]',
      /public keys only/,
    ],
    [
      'the same iss twice',
      '[{"iss":"x","jwks_url":"https://x/j"},{"iss":"x","jwks_url":"https://x/k"}]',
      /only once/,
    ],
  ])(
    'When the file holds %s, start-up stops with a one-line message naming the problem',
    (_label, content, message) => {
      const path = writeClients('bad.json', content);
      let thrown: unknown;
      try {
        loadCdsClients(path);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(Error);
      const text = thrown instanceof Error ? thrown.message : '';
      expect(text).toMatch(message);
      expect(text).toContain('CDS_CLIENTS_FILE');
      expect(text).not.toContain('\n');
    },
  );

  it('When the file does not exist, start-up stops with a message naming the path', () => {
    expect(() => loadCdsClients(join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });
});
