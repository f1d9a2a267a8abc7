// Soak test: runs the service as its own process on loopback, keeps it under patient-view load
// (full prefetch) for N minutes, and prints its RSS over time and the error count. Stops by itself.
//
//   npm run soak                 # 5 minutes
//   npm run soak -- --minutes 1  # shorter
//
// The service is `node dist/src/main.js` when built, else `tsx src/main.ts`; the embedded FHIR
// server is off so memory is the service's own.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildWorkloadBody } from './workload.js';
import { spawnService } from '../scripts/spawn-service.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE_EVERY_MS = 15_000;
const CONNECTIONS = 16;

function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]) / 1024;
}

async function startService(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const built = `${ROOT}dist/src/main.js`;
  const [command, args] = existsSync(built)
    ? [process.execPath, [built]]
    : [`${ROOT}node_modules/.bin/tsx`, [`${ROOT}src/main.ts`]];
  const { child, listening } = spawnService({ command, args, cwd: ROOT, stderr: 'inherit' });
  const port = await listening;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' } } });
  const minutes = Math.min(60, Math.max(0.25, Number(values.minutes) || 5));
  const service = await startService();
  console.log(
    `soak: ${minutes} min of patient-view load (${CONNECTIONS} connections) on ${service.url}, ` +
      `service pid ${service.pid}`,
  );
  const started = Date.now();
  let responses = 0;
  let failures = 0;
  const samples: { minute: number; rssMb: number; responses: number; failures: number }[] = [];
  const sample = () => {
    const entry = {
      minute: (Date.now() - started) / 60_000,
      rssMb: readRssMb(service.pid),
      responses,
      failures,
    };
    samples.push(entry);
    console.log(
      `  t=${entry.minute.toFixed(2).padStart(5)} min  RSS ${entry.rssMb.toFixed(1).padStart(6)} MB  ` +
        `responses ${String(responses).padStart(8)}  errors ${failures}`,
    );
  };
  sample();
  const timer = setInterval(sample, SAMPLE_EVERY_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${service.url}/cds-services/liver-trends`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(buildWorkloadBody({ now: new Date() })),
          connections: CONNECTIONS,
          duration: minutes * 60,
        },
        (err) => (err ? reject(err) : resolve()),
      );
      instance.on('response', (_client, statusCode) => {
        responses += 1;
        if (statusCode !== 200) {
          failures += 1;
        }
      });
      instance.on('reqError', () => {
        failures += 1;
      });
    });
  } finally {
    clearInterval(timer);
  }
  sample();
  await service.stop();

  const warm = samples.filter((s) => s.minute >= Math.min(1, minutes / 3));
  const first = warm[0]?.rssMb ?? Number.NaN;
  const last = warm.at(-1)?.rssMb ?? Number.NaN;
  const peak = Math.max(...samples.map((s) => s.rssMb));
  console.log(
    `soak done: ${responses} responses, ${failures} errors; RSS after warm-up ${first.toFixed(1)} MB → ` +
      `${last.toFixed(1)} MB at the end (peak ${peak.toFixed(1)} MB)`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

await main();
