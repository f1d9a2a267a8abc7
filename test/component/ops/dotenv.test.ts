import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real entry point in `cwd` with only `env` set; stops it with SIGTERM once it prints the
 * discovery line (or lets it exit by itself).
 */
function runEntryPoint(cwd: string, env: Record<string, string>): Promise<Outcome> {
  const child = spawn(`${ROOT}node_modules/.bin/tsx`, [`${ROOT}src/main.ts`], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (
      stdout.includes('CDS Hooks discovery:') &&
      stdout.includes('\n', stdout.indexOf('discovery'))
    ) {
      child.kill('SIGTERM');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('.env at start-up', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'htc-dotenv-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const base = { EMBEDDED_FHIR: 'false', HOST: '127.0.0.1', PORT: '0' };

  test('When .env sets a variable the environment does not, the service uses it (a bad value stops it, naming the variable)', async () => {
    writeFileSync(join(dir, '.env'), '# local settings\nLOG_LEVEL=verbose\n');

    const outcome = await runEntryPoint(dir, base);

    expect(outcome.stderr).toContain('Configuration error: LOG_LEVEL must be one of');
    expect(outcome.code).toBe(1);
  });

  test('When both set a variable, the environment wins; the rest of .env still applies and the banner says .env was read', async () => {
    writeFileSync(
      join(dir, '.env'),
      'LOG_LEVEL=verbose\nPUBLIC_BASE_URL="https://cds.from-dotenv.example"\n',
    );

    const outcome = await runEntryPoint(dir, { ...base, LOG_LEVEL: 'warn' });

    expect(outcome.stderr).not.toContain('Configuration error');
    expect(outcome.stdout).toContain(
      'CDS Hooks discovery: https://cds.from-dotenv.example/cds-services',
    );
    expect(outcome.stdout).toContain('Settings read from .env');
  });

  test('When there is no .env, the service starts from the environment alone and says nothing about .env', async () => {
    const outcome = await runEntryPoint(dir, base);

    expect(outcome.stdout).toContain('CDS Hooks discovery: http://127.0.0.1:');
    expect(outcome.stdout).not.toContain('.env');
  });
});
