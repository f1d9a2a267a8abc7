import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { configDescriptions, loadConfig } from '../../src/config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

const ComposeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      image: z.string().optional(),
      build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
      command: z.array(z.string()).optional(),
      environment: z.record(z.string(), z.string()).optional(),
      ports: z.array(z.string()).optional(),
    }),
  ),
});

/** Dockerfile instructions with line continuations joined. */
function readInstructions(): { keyword: string; args: string }[] {
  return read('docker/Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Instructions of the last stage, the image that ships. */
function runtimeStage(): { keyword: string; args: string }[] {
  const instructions = readInstructions();
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(lastFrom);
}

describe('docker/', () => {
  const compose = ComposeSchema.parse(parse(read('docker/compose.yaml'), { merge: true }));

  test('When compose sets environment for the service, every variable is one the configuration knows and accepts', () => {
    const env = compose.services.cds?.environment ?? {};

    expect(Object.keys(env).length).toBeGreaterThan(3);
    for (const key of Object.keys(env)) {
      expect(Object.keys(configDescriptions)).toContain(key);
    }
    const config = loadConfig(env);
    expect(config.EMBEDDED_FHIR).toBe(false);
    expect(config.PORT).toBe(3000);
  });

  test('When compose starts, it runs the service image, a HAPI FHIR server and a seed job pointed at that HAPI server', () => {
    const { cds, hapi, seed } = compose.services;

    expect(hapi?.image).toMatch(/^hapiproject\/hapi:/);
    expect(cds?.build?.dockerfile).toBe('docker/Dockerfile');
    expect(seed?.image).toBe(cds?.image);
    const command = seed?.command ?? [];
    expect(command.slice(0, 2)).toEqual(['node', 'dist/scripts/seed.js']);
    expect(command[command.indexOf('--fhir-server') + 1]).toBe('http://hapi:8080/fhir');
    expect(existsSync(join(root, 'scripts/seed.ts'))).toBe(true);
    expect(cds?.ports).toContain(`${cds?.environment?.PORT}:${cds?.environment?.PORT}`);
  });

  test('When the image starts, its CMD is the same command as npm start, which the end-to-end tests exercise', () => {
    const pkg = z
      .object({ scripts: z.object({ start: z.string() }) })
      .parse(JSON.parse(read('package.json')));
    const cmd = runtimeStage().find((i) => i.keyword === 'CMD');

    expect(
      z
        .array(z.string())
        .parse(JSON.parse(cmd?.args ?? 'null'))
        .join(' '),
    ).toBe(pkg.scripts.start);
    expect(existsSync(join(root, 'src/main.ts'))).toBe(true);
  });

  test('When the runtime image is built, it installs production dependencies only, runs as a non-root user and checks /healthz', () => {
    const stage = runtimeStage();

    expect(stage[0]?.args).toMatch(/^node:20-(slim|alpine)/);
    expect(stage.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci --omit=dev'))).toBe(
      true,
    );
    const user = stage.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    expect(stage.find((i) => i.keyword === 'HEALTHCHECK')?.args).toContain('/healthz');
  });

  test('When the Dockerfile copies files from the build context, each exists and is not excluded by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = readInstructions()
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));

    expect(sources).toEqual(expect.arrayContaining(['cards', 'demo', 'package-lock.json']));
    for (const source of sources) {
      expect(existsSync(join(root, source))).toBe(true);
      expect(
        ignored.filter((pattern) => source === pattern || source.startsWith(`${pattern}/`)),
      ).toEqual([]);
    }
  });
});
