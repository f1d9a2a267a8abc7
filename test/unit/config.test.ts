import { ConfigError, configDescriptions, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  test('When nothing is set, uses the documented defaults and derives PUBLIC_BASE_URL from localhost', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      PUBLIC_BASE_URL: 'http://localhost:3000',
      LOG_LEVEL: 'info',
      FHIR_TIMEOUT_MS: 3000,
      FHIR_MAX_PAGES: 10,
      LOOKBACK_DAYS: 180,
      MAX_BODY: '1mb',
      EMBEDDED_FHIR: true,
      HOOK_DEADLINE_MS: 5000,
      TREND_LINK_TTL_SECONDS: 900,
    });
    expect(config.CDS_CLIENTS_FILE).toBeUndefined();
  });

  test('When store URLs and admin secrets are set, they are checked without echoing a secret', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://cds:pw@db:5432/cds',
      REDIS_URL: 'rediss://cache:6380',
      ADMIN_TOKEN: 'a'.repeat(24),
    });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgresql://cds:pw@db:5432/cds',
      REDIS_URL: 'rediss://cache:6380',
    });
    expect(() => loadConfig({ DATABASE_URL: 'mysql://cds:hunter2@db/cds' })).toThrow(
      /^DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/$/,
    );
    expect(() => loadConfig({ REDIS_URL: 'http://cache:hunter2@x' })).toThrow(/^REDIS_URL must/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/at least 24 characters/);
    expect(() => loadConfig({ PATIENT_ID_HASH_KEY: 'short' })).toThrow(/at least 32 characters/);
  });

  test('When HOST and PORT are set, the default PUBLIC_BASE_URL uses them', () => {
    expect(loadConfig({ HOST: '127.0.0.1', PORT: '3999' }).PUBLIC_BASE_URL).toBe(
      'http://127.0.0.1:3999',
    );
  });

  test('When PUBLIC_BASE_URL ends with slashes, they are removed', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://cds.example.org/base//' }).PUBLIC_BASE_URL).toBe(
      'https://cds.example.org/base',
    );
  });

  test('When values are given as text, they are converted to numbers and booleans', () => {
    const config = loadConfig({
      PORT: '8080',
      FHIR_TIMEOUT_MS: '250',
      EMBEDDED_FHIR: '0',
      LOG_LEVEL: 'DEBUG',
      MAX_BODY: '65536',
      CDS_CLIENTS_FILE: './clients.json',
    });

    expect(config).toMatchObject({
      PORT: 8080,
      FHIR_TIMEOUT_MS: 250,
      EMBEDDED_FHIR: false,
      LOG_LEVEL: 'debug',
      MAX_BODY: '65536',
      CDS_CLIENTS_FILE: './clients.json',
    });
  });

  test.each([
    [{ PORT: 'eighty' }, "PORT must be an integer; got 'eighty'"],
    [{ PORT: '70000' }, 'PORT must be between 0 and 65535; got 70000'],
    [{ FHIR_TIMEOUT_MS: '1.5' }, "FHIR_TIMEOUT_MS must be an integer; got '1.5'"],
    [{ FHIR_MAX_PAGES: '0' }, 'FHIR_MAX_PAGES must be between 1 and 1000; got 0'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal|error|warn|info|debug|trace|silent'],
    [
      { MAX_BODY: 'huge' },
      "MAX_BODY must be a byte count or a size such as 512kb or 1mb; got 'huge'",
    ],
    [{ EMBEDDED_FHIR: 'yes' }, "EMBEDDED_FHIR must be one of true|false|1|0; got 'yes'"],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL must be an absolute http(s) URL'],
    [{ PUBLIC_BASE_URL: 'ftp://cds.example.org' }, 'PUBLIC_BASE_URL must use http or https'],
  ])('When given %j, fails with one line naming the variable', (env, expected) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ConfigError);
    const message = thrown instanceof Error ? thrown.message : '';
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  test('The loaded configuration cannot be changed afterwards', () => {
    const config = loadConfig({});

    expect(Object.isFrozen(config)).toBe(true);
  });

  test('Every key carries a description for the documentation', () => {
    expect(Object.keys(configDescriptions).sort()).toEqual(
      [
        'ADMIN_TOKEN',
        'CDS_CLIENTS_FILE',
        'DATABASE_URL',
        'EMBEDDED_FHIR',
        'FHIR_MAX_PAGES',
        'FHIR_TIMEOUT_MS',
        'HOOK_DEADLINE_MS',
        'HOST',
        'LOG_LEVEL',
        'LOOKBACK_DAYS',
        'MAX_BODY',
        'PATIENT_ID_HASH_KEY',
        'PORT',
        'PUBLIC_BASE_URL',
        'REDIS_URL',
        'TREND_LINK_TTL_SECONDS',
        'NODE_ENV',
        'FHIR_SERVER_ALLOWLIST',
        'ALLOW_INSECURE_FHIR',
        'ALLOW_OPEN_MODE',
        'EMBEDDED_FHIR_READONLY',
        'EMBEDDED_FHIR_MAX_RESOURCES',
        'FHIR_MAX_RESPONSE_BYTES',
        'HEADERS_TIMEOUT_MS',
        'REQUEST_TIMEOUT_MS',
      ].sort(),
    );
    expect(Object.values(configDescriptions).every((text) => text.length > 10)).toBe(true);
  });
});

describe('Exposure and relay settings', () => {
  test('When NODE_ENV=production, open mode on a public interface refuses to start with a one-line reason', () => {
    const start = () => loadConfig({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/^Refusing to start: .*CDS_CLIENTS_FILE.*ALLOW_OPEN_MODE=true$/);
    expect(() => start()).not.toThrow(/\n/);
  });

  test.each([
    ['bound to loopback', { HOST: '127.0.0.1' }],
    ['with a clients file', { CDS_CLIENTS_FILE: './clients.json' }],
    ['with ALLOW_OPEN_MODE=true', { ALLOW_OPEN_MODE: 'true' }],
  ])('When NODE_ENV=production and the service is %s, it starts', (_label, env) => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...env })).not.toThrow();
  });

  test('When NODE_ENV=production, the embedded FHIR server is read-only unless told otherwise', () => {
    const prod = { NODE_ENV: 'production', HOST: '127.0.0.1' };
    expect(loadConfig(prod).EMBEDDED_FHIR_READONLY).toBe(true);
    expect(loadConfig({ ...prod, EMBEDDED_FHIR_READONLY: 'false' }).EMBEDDED_FHIR_READONLY).toBe(
      false,
    );
    expect(loadConfig({}).EMBEDDED_FHIR_READONLY).toBe(false);
  });

  test('When FHIR_SERVER_ALLOWLIST lists origins, they are kept as origins', () => {
    expect(
      loadConfig({ FHIR_SERVER_ALLOWLIST: 'https://ehr.example.org, http://127.0.0.1:8080' })
        .FHIR_SERVER_ALLOWLIST,
    ).toEqual(['https://ehr.example.org', 'http://127.0.0.1:8080']);
  });

  test.each([
    [{ FHIR_SERVER_ALLOWLIST: 'https://ehr.example.org/fhir' }, /must list origins/],
    [{ FHIR_SERVER_ALLOWLIST: 'ehr.example.org' }, /must list origins/],
    [{ FHIR_SERVER_ALLOWLIST: 'http://ehr.example.org' }, /plain http.*ALLOW_INSECURE_FHIR/],
    [{ ALLOW_OPEN_MODE: 'yes' }, /ALLOW_OPEN_MODE must be one of true\|false\|1\|0/],
  ])('When %j is set, start-up stops with a one-line message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('When ALLOW_INSECURE_FHIR=true, a plain-http origin may be listed', () => {
    expect(
      loadConfig({ FHIR_SERVER_ALLOWLIST: 'http://ehr.example.org', ALLOW_INSECURE_FHIR: 'true' })
        .FHIR_SERVER_ALLOWLIST,
    ).toEqual(['http://ehr.example.org']);
  });
});
