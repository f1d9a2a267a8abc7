import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { configDescriptions, loadConfig } from '../../src/config.js';

const knownKeys = (): string[] => Object.keys(configDescriptions);

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
      volumes: z.array(z.string()).optional(),
      depends_on: z
        .union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))])
        .optional(),
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

/** Instructions of the stage named `name` (`FROM … AS name`). */
function namedStage(name: string): { keyword: string; args: string }[] {
  const instructions = readInstructions();
  const start = instructions.findIndex(
    (i) => i.keyword === 'FROM' && new RegExp(`\\s+AS\\s+${name}$`, 'i').test(i.args),
  );
  const end = instructions.findIndex((i, index) => index > start && i.keyword === 'FROM');
  return start < 0 ? [] : instructions.slice(start, end < 0 ? undefined : end);
}

/** `[sources, destination]` of each COPY from the build context (not from another stage). */
function contextCopies(stage: { keyword: string; args: string }[]): [string[], string][] {
  return stage
    .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--'))
    .map((i) => {
      const parts = i.args.split(/\s+/);
      return [parts.slice(0, -1), parts.at(-1) ?? ''];
    });
}

/** Every `image:` value in a parsed YAML tree. */
function collectImages(node: unknown): string[] {
  if (Array.isArray(node)) {
    return node.flatMap(collectImages);
  }
  if (typeof node !== 'object' || node === null) {
    return [];
  }
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'image' && typeof value === 'string' ? [value] : collectImages(value),
  );
}

/** YAML files under docker/, each possibly holding several documents. */
function dockerYamlFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? walk(`${dir}/${entry.name}`)
        : /\.ya?ml$/.test(entry.name)
          ? [`${dir}/${entry.name}`]
          : [],
    );
  return walk('docker');
}

const execFileAsync = promisify(execFile);

/** Compose's `${NAME:-default}` / `${NAME}` interpolation, with nothing set in the environment. */
function interpolate(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      value.replace(
        /\$\{\w+(?::?-([^}]*))?\}/g,
        (_m, fallback: string | undefined) => fallback ?? '',
      ),
    ]),
  );
}

describe('docker/', () => {
  const compose = ComposeSchema.parse(parse(read('docker/compose.yaml'), { merge: true }));

  const replicas = ['cds-a', 'cds-b'] as const;

  test('When compose sets environment for the replicas, both get the same, and every variable is one the configuration knows and accepts', () => {
    const [a, b] = replicas.map((name) => interpolate(compose.services[name]?.environment ?? {}));

    expect(a).toEqual(b);
    expect(Object.keys(a ?? {}).length).toBeGreaterThan(3);
    for (const key of Object.keys(a ?? {})) {
      expect(knownKeys()).toContain(key);
    }
    const config = loadConfig(a ?? {});
    expect(config.EMBEDDED_FHIR).toBe(false);
    expect(config.PORT).toBe(3000);
  });

  test('When compose starts, two replicas of the service image share PostgreSQL and Redis behind a load balancer that checks /readyz', () => {
    const { lb, postgres, redis } = compose.services;
    const env = interpolate(compose.services['cds-a']?.environment ?? {});
    const port = env.PORT ?? '';

    for (const name of replicas) {
      const replica = compose.services[name];
      expect(replica?.build?.dockerfile).toBe('docker/Dockerfile');
      // Only the balancer is reachable from the host.
      expect(replica?.ports).toBeUndefined();
      expect(replica?.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(redis?.image).toMatch(/^redis:/);
    expect(new URL(env.DATABASE_URL ?? '').hostname).toBe('postgres');
    expect(new URL(env.REDIS_URL ?? '').hostname).toBe('redis');

    // PUBLIC_BASE_URL is the balancer as the host sees it, the same for both replicas.
    const published = (lb?.ports ?? []).map((mapping) => mapping.split(':'));
    expect(published).toHaveLength(1);
    const [hostPort, lbPort] = published[0] ?? [];
    expect(new URL(env.PUBLIC_BASE_URL ?? '').port).toBe(hostPort);

    const mount = (lb?.volumes ?? []).find((volume) => volume.startsWith('./haproxy.cfg:'));
    expect(mount).toBeDefined();
    const cfg = read('docker/haproxy.cfg');
    expect(cfg).toMatch(new RegExp(`^\\s*bind :${lbPort}$`, 'm'));
    const servers = [...cfg.matchAll(/^\s*server\s+\S+\s+([\w-]+):(\d+)/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(servers).toEqual(replicas.map((name) => [name, port]));
    expect(cfg).toMatch(/^\s*http-check send meth GET uri \/readyz$/m);
    expect(cfg).toMatch(/^\s*http-check expect status 200$/m);
    expect(cfg).toMatch(/check\b/);
  });

  test('When the balancer logs a request, the line holds no URI, so trend-link ids stay out of its log', () => {
    const cfg = read('docker/haproxy.cfg');
    const directives = cfg
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));

    expect(directives).toContainEqual(expect.stringMatching(/^log-format /));
    expect(directives.filter((line) => /^option\s+(httplog|httpslog)\b/.test(line))).toEqual([]);
    for (const format of directives.filter((line) => line.startsWith('log-format'))) {
      const variables = [...format.matchAll(/%(?:\{[^}]*\})?([A-Za-z]+)/g)].map((m) => m[1]);
      expect(variables).toContain('ST');
      // %r request line, %HU URI, %HP path, %HPO path only, %HQ query string
      expect(variables.filter((v) => ['r', 'HU', 'HP', 'HPO', 'HQ'].includes(v ?? ''))).toEqual([]);
    }
  });

  test('When compose starts, it also runs HAPI and a seed job pointed at that HAPI server', () => {
    const { hapi, seed } = compose.services;

    expect(hapi?.image).toMatch(/^hapiproject\/hapi:/);
    expect(seed?.image).toBe(compose.services['cds-a']?.image);
    const command = seed?.command ?? [];
    expect(command.slice(0, 2)).toEqual(['node', 'dist/scripts/seed.js']);
    expect(command[command.indexOf('--fhir-server') + 1]).toBe('http://hapi:8080/fhir');
    expect(existsSync(join(root, 'scripts/seed.ts'))).toBe(true);
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

    expect(stage[0]?.args).toMatch(/^node:20\.\d+\.\d+-(bookworm-slim|slim|alpine)/);
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

  test('When the build stage compiles, exactly the files it copies type-check and produce the entry points the image and compose run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'htc-image-build-'));
    try {
      for (const [sources, destination] of contextCopies(namedStage('build'))) {
        for (const source of sources) {
          const target = destination.endsWith('/')
            ? join(dir, destination, source)
            : join(dir, destination);
          cpSync(join(root, source), target, { recursive: true });
        }
      }
      // The build stage's own `npm ci` (dev dependencies included) stands in as the real node_modules.
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

      const result = await execFileAsync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
        cwd: dir,
      }).then(
        () => ({ ok: true, output: '' }),
        (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }),
      );

      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
      const cmd = z
        .array(z.string())
        .parse(JSON.parse(runtimeStage().find((i) => i.keyword === 'CMD')?.args ?? 'null'));
      expect(existsSync(join(dir, cmd[1] ?? 'missing'))).toBe(true);
      const seed = compose.services.seed?.command ?? [];
      expect(existsSync(join(dir, seed[1] ?? 'missing'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('When any image is named in docker/, its tag is an exact version, never latest or missing', () => {
    const fromImages = readInstructions()
      .filter((i) => i.keyword === 'FROM')
      .map((i) => i.args.split(/\s+/).find((part) => !part.startsWith('--')) ?? '');
    const yamlImages = dockerYamlFiles().flatMap((file) =>
      parseAllDocuments(read(file)).flatMap((doc) => collectImages(doc.toJS({ merge: true }))),
    );
    // Images this repository builds itself are tagged by whoever builds them.
    const external = [...fromImages, ...yamlImages].filter(
      (image) => !image.startsWith('hepatic-trends-cds'),
    );

    expect(fromImages.length).toBeGreaterThanOrEqual(2);
    expect(external.length).toBeGreaterThanOrEqual(fromImages.length + 1);
    for (const image of external) {
      const tag = /^[^@]+:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      expect({ image, tag }).toEqual({ image, tag: expect.stringMatching(/^v?\d+\.\d+/) });
      expect(tag).not.toMatch(/latest/);
    }
  });

  test('When the image installs dependencies, no install script runs, whatever npm version the base image ships', () => {
    const installs = readInstructions().filter(
      (i) => i.keyword === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(i.args),
    );

    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const install of installs) {
      expect(install.args).toMatch(/npm ci\b[^&;|]*--ignore-scripts/);
    }
  });

  test('When a locked package declares an install script, package.json allowScripts lists it as not allowed', () => {
    const lock = z
      .object({
        packages: z.record(z.string(), z.object({ hasInstallScript: z.boolean().optional() })),
      })
      .parse(JSON.parse(read('package-lock.json')));
    const allowScripts = z
      .object({ allowScripts: z.record(z.string(), z.boolean()) })
      .parse(JSON.parse(read('package.json'))).allowScripts;
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));

    // The image ignores every install script, so a dependency that needs one would break it.
    for (const name of withScripts) {
      expect({ name, allowed: allowScripts[name] }).toEqual({ name, allowed: false });
    }
  });
});
