// Cold start and memory: spawn the built service (`node dist/src/main.js`, embedded FHIR server
// off), time it to the first 200 from /healthz, warm it up with patient-view calls, read its RSS.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { services } from '../hooks/index.js';
import { spawnService } from '../scripts/spawn-service.js';
import { judge, readRssMb, runLoad } from './support.js';
import type { Figure } from './support.js';
import { buildWorkloadBody } from './workload.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = `${ROOT}dist/src/main.js`;
const START_TIMEOUT_MS = 15_000;

/** Latest modification time of the TypeScript sources the build compiles. */
function newestSourceMs(): number {
  let newest = 0;
  for (const dir of ['src', 'hooks']) {
    for (const entry of readdirSync(`${ROOT}${dir}`, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) {
        newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
      }
    }
  }
  return newest;
}

/** A build older than the sources would measure code that no longer exists, so rebuild then. */
export function ensureBuilt(): string {
  if (existsSync(ENTRY) && statSync(ENTRY).mtimeMs >= newestSourceMs()) {
    return `existing build of ${statSync(ENTRY).mtime.toISOString()}`;
  }
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    throw new Error('npm run build failed');
  }
  return 'fresh build';
}

async function waitForHealth(readPort: () => number | undefined, started: number): Promise<number> {
  while (performance.now() - started < START_TIMEOUT_MS) {
    const port = readPort();
    if (port !== undefined) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        await res.arrayBuffer();
        if (res.status === 200) {
          return performance.now() - started;
        }
      } catch {
        // not accepting yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no 200 from /healthz within ${START_TIMEOUT_MS} ms`);
}

const WARMUP_REQUESTS = 1000;

export async function benchStartup(warmupSec: number): Promise<Figure[]> {
  const build = ensureBuilt();
  const started = performance.now();
  const { child, listening } = spawnService({
    command: process.execPath,
    args: [ENTRY],
    cwd: ROOT,
  });
  let port: number | undefined;
  listening.then(
    (listeningPort) => (port = listeningPort),
    () => undefined,
  );
  try {
    const coldMs = await waitForHealth(() => port, started);
    const idleRss = readRssMb(child.pid ?? 0);
    const serviceName = services[0]?.definition.id ?? '(none)';
    const warm = await runLoad({
      url: `http://127.0.0.1:${port ?? 0}/cds-services/${serviceName}`,
      body: JSON.stringify(buildWorkloadBody({ now: new Date() })),
      connections: 32,
      durationSec: warmupSec,
      amount: WARMUP_REQUESTS,
    });
    const warmRss = readRssMb(child.pid ?? 0);
    console.log(
      `startup: node dist/src/main.js (${build}), EMBEDDED_FHIR=false; warm-up ${warm.total} ` +
        `patient-view calls with full prefetch (errors ${warm.errors}, non-2xx ${warm.non2xx})`,
    );
    return [
      {
        measure: 'cold start to first 200 on /healthz',
        value: `${coldMs.toFixed(0)} ms`,
        goal: '< 1500 ms',
        verdict: judge(coldMs < 1500),
      },
      {
        measure: 'RSS idle after start',
        value: idleRss === undefined ? 'n/a' : `${idleRss.toFixed(0)} MB`,
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: `RSS after a ${WARMUP_REQUESTS}-call warm-up`,
        value: warmRss === undefined ? 'n/a' : `${warmRss.toFixed(0)} MB`,
        goal: '< 150 MB',
        verdict: judge(warmRss === undefined ? undefined : warmRss < 150),
      },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
