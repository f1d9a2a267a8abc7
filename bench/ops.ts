// Service-level benchmarks (throughput, fetch path, cold start and memory) with one combined table.
// Loopback only; bounded by the durations below (about 40 s in all with the defaults).

import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { benchFetchPath, benchThroughput } from './http.js';
import { benchStartup } from './startup.js';
import { printTable } from './support.js';
import type { Figure } from './support.js';

export async function benchOperations(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: 'string', default: '5' } },
    strict: false,
  });
  const seconds = Math.min(60, Math.max(1, Number(values.seconds) || 5));
  const rows: Figure[] = [];
  const sections: [string, () => Promise<Figure[]>][] = [
    ['throughput', () => benchThroughput(seconds)],
    ['fetch path (embedded FHIR server)', () => benchFetchPath(false)],
    ['fetch path (stub FHIR server)', () => benchFetchPath(true)],
    ['startup', () => benchStartup(seconds)],
  ];
  for (const [name, run] of sections) {
    try {
      rows.push(...(await run()));
    } catch (err) {
      rows.push({
        measure: `${name} benchmark`,
        value: `failed: ${String(err)}`,
        goal: '-',
        verdict: 'FAIL',
      });
    }
  }
  const [load1] = loadavg();
  printTable(
    `Service benchmarks (node ${process.version}, ${cpus().length} CPU(s), loopback, ` +
      `load average ${(load1 ?? 0).toFixed(1)} at the end)`,
    rows,
  );
  return rows;
}
