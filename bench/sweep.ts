// Population sweep benchmark: `hepatic-trends sweep` on a generated Bulk Data export (see
// generate-export.ts), run as the command runs, in a process of its own. Reports patients and
// Observations per second, peak RSS (the process's VmHWM, worker threads included) at two sizes to
// show it does not grow with the number of patients, and the speed-up from 1 to 2 jobs.
// Default 4 000 patients (under a minute on 2 cores); `npm run bench -- --sweep-patients=100000`.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateExport } from './generate-export.js';
import { ensureBuilt } from './startup.js';
import { judge, printTable, type Figure } from './support.js';

const NOW = '2026-06-01T12:00:00.000Z';
const RSS_GOAL_MB = 1024;

interface Run {
  seconds: number;
  peakRssMb: number;
}

export async function benchSweep(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: { 'sweep-patients': { type: 'string', default: '4000' } },
    strict: false,
  });
  const patients = Math.max(100, Number(values['sweep-patients']) || 4000);
  // The compiled command, as the container runs it: tsx would compile every worker's sources anew.
  ensureBuilt();
  const root = await mkdtemp(join(tmpdir(), 'bench-sweep-'));
  try {
    const small = await generateExport(join(root, 'small'), Math.ceil(patients / 4), new Date(NOW));
    const large = await generateExport(join(root, 'large'), patients, new Date(NOW));
    const quarter = await runSweep(join(root, 'small'), join(root, 'out-small'), 2);
    const one = await runSweep(join(root, 'large'), join(root, 'out-1'), 1);
    const two = await runSweep(join(root, 'large'), join(root, 'out-2'), 2);
    const rows: Figure[] = [
      {
        measure: `sweep ${patients} patients, 2 jobs: patients/s`,
        value: (patients / two.seconds).toFixed(0),
        goal: 'recorded',
        verdict: 'n/a',
      },
      {
        measure: `sweep ${patients} patients, 2 jobs: Observations/s`,
        value: (large.observations / two.seconds).toFixed(0),
        goal: 'recorded',
        verdict: 'n/a',
      },
      {
        measure: 'sweep speed-up, 1 → 2 jobs',
        value: `${(one.seconds / two.seconds).toFixed(2)}× (${one.seconds.toFixed(1)} s → ${two.seconds.toFixed(1)} s)`,
        goal: '> 1.3×',
        verdict: judge(one.seconds / two.seconds > 1.3),
      },
      {
        measure: `sweep peak RSS, ${patients} patients, 2 jobs`,
        value: `${two.peakRssMb.toFixed(0)} MB`,
        goal: `< ${RSS_GOAL_MB} MB`,
        verdict: judge(two.peakRssMb < RSS_GOAL_MB),
      },
      {
        measure: `sweep peak RSS, ${small.patients} → ${patients} patients`,
        value: `${quarter.peakRssMb.toFixed(0)} → ${two.peakRssMb.toFixed(0)} MB`,
        goal: 'flat (< 1.5× for 4× patients)',
        verdict: judge(two.peakRssMb < 1.5 * quarter.peakRssMb),
      },
    ];
    printTable('Population sweep (hepatic-trends sweep)', rows);
    return rows;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs the command in a process of its own, sampling its peak RSS from /proc until it exits. */
async function runSweep(dir: string, out: string, jobs: number): Promise<Run> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      'dist/src/cli/main.js',
      'sweep',
      dir,
      '--out',
      out,
      '--jobs',
      String(jobs),
      '--now',
      NOW,
      '--quiet',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let peakRssMb = 0;
  const sample = () => {
    try {
      const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      peakRssMb = Math.max(peakRssMb, Number(match?.[1] ?? 0) / 1024);
    } catch {
      // The process has exited between two samples.
    }
  };
  const timer = setInterval(sample, 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) {
    throw new Error(`hepatic-trends sweep exited with ${code}`);
  }
  return { seconds: (performance.now() - started) / 1000, peakRssMb };
}
