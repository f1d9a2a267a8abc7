// HTTP benchmarks on loopback:
// 1. patient-view with full prefetch through the whole app (logging, metrics, headers, validation,
//    engine, rules, cards, trend-link publishing, response check), the same app replaying a stored
//    answer, and a bare express endpoint that only parses the same JSON body, all three in one server
//    process of their own (bench/throughput-servers.ts);
// 2. the fetch path: no prefetch, every key fetched from a FHIR server that adds 100 ms to each
//    response, against the latency of one request to that server.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { services } from '../hooks/index.js';
import { judge, median, runLoad } from './support.js';
import type { Figure, LoadResult } from './support.js';
import { buildWorkloadBody } from './workload.js';

const CONNECTIONS = 32;
const FHIR_DELAY_MS = 100;
const SAMPLES = 15;
const FETCH_WARM_UP_CALLS = 10;

function describeLoad(r: LoadResult): string {
  return `${Math.round(r.requestsPerSec)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`;
}

/**
 * Shared machines drift in speed from one second to the next, so the two endpoints are measured in
 * alternating rounds and every figure is the median over rounds; the ratio is the median of the
 * per-round ratios, each taken between neighbouring measurements.
 */
const ROUNDS = 5;

function medianOf(results: LoadResult[], pick: (r: LoadResult) => number): number {
  return median(results.map(pick));
}

type Endpoint = 'hook' | 'stack' | 'bare';

const WARM_UP_MAX_SEC = 25;
/** The hook path reaches its steady speed after some 8 000 calls. */
const WARM_UP_MIN_CALLS = 10_000;

/**
 * Load in one-second steps until at least WARM_UP_MIN_CALLS calls have been made and the last two
 * steps agree within 5 %: the hook path climbs from about a third of its speed to its steady state
 * while the JIT optimises its many functions, and a service runs at its steady state, not at its
 * first seconds.
 */
async function warmUp(url: string, body: string): Promise<string> {
  const rates: number[] = [];
  let calls = 0;
  while (rates.length < WARM_UP_MAX_SEC) {
    const result = await runLoad({ url, body, connections: CONNECTIONS, durationSec: 1 });
    rates.push(result.requestsPerSec);
    calls += result.total;
    const previous = rates.at(-2);
    const settled = previous !== undefined && Math.abs(result.requestsPerSec / previous - 1) < 0.05;
    if (calls >= WARM_UP_MIN_CALLS && settled) {
      break;
    }
  }
  return `${rates.length} s, ${rates.map((r) => Math.round(r)).join(' → ')} req/s`;
}

export async function benchThroughput(durationSec: number): Promise<Figure[]> {
  const now = new Date();
  const serviceName = services[0]?.definition.id ?? '(none)';
  const at = ['--now', now.toISOString()];
  const servers = await startBenchServer('./throughput-servers.ts', [
    ...at,
    '--serve',
    'hook,bare',
  ]);
  const stackServer = await startBenchServer('./throughput-servers.ts', [
    ...at,
    '--serve',
    'stack',
  ]);
  const body = JSON.stringify(buildWorkloadBody({ now }));
  const urls: Record<Endpoint, string> = {
    hook: servers.info.hook ?? '',
    stack: stackServer.info.stack ?? '',
    bare: servers.info.bare ?? '',
  };
  const roundSec = Math.max(1, Math.floor(durationSec / 2));
  try {
    const probe = await fetch(urls.hook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const cards = ((await probe.json()) as { cards?: unknown[] }).cards?.length ?? 0;
    console.log(
      `throughput: service '${serviceName}' from hooks/index.ts in server processes of their own, full prefetch ` +
        `(${Math.round(body.length / 1024)} KiB body), answers ${probe.status} with ${cards} card(s); ` +
        `${ROUNDS} rounds of ${roundSec} s per endpoint, in rotating order`,
    );

    for (const which of ['hook', 'stack', 'bare'] as const) {
      const warm = await warmUp(urls[which], body);
      console.log(`  warm-up ${which}: ${warm}`);
    }
    const rounds: Record<Endpoint, LoadResult[]> = { hook: [], stack: [], bare: [] };
    const ratios: number[] = [];
    const stackRatios: number[] = [];
    const endpoints: Endpoint[] = ['hook', 'stack', 'bare'];
    for (let round = 0; round < ROUNDS; round += 1) {
      // The order rotates, so that no endpoint always meets the machine at the same moment.
      const order = endpoints.map((_, i) => endpoints[(i + round) % endpoints.length] ?? 'bare');
      for (const which of order) {
        rounds[which].push(
          await runLoad({
            url: urls[which],
            body,
            connections: CONNECTIONS,
            durationSec: roundSec,
          }),
        );
      }
      const [hook, replay, base] = endpoints.map((which) => rounds[which][round]);
      const baseRate = base?.requestsPerSec ?? Number.NaN;
      ratios.push((hook?.requestsPerSec ?? 0) / baseRate);
      stackRatios.push((replay?.requestsPerSec ?? 0) / baseRate);
      console.log(
        `  round ${round + 1}: patient-view ${describeLoad(hook)}; stored answer ` +
          `${describeLoad(replay)}; bare ${describeLoad(base)}`,
      );
    }
    // One connection: the service's own latency without queueing behind 31 other requests.
    const oneConn = Math.min(3, durationSec);
    const single = await runLoad({ url: urls.hook, body, connections: 1, durationSec: oneConn });
    const singleBare = await runLoad({
      url: urls.bare,
      body,
      connections: 1,
      durationSec: oneConn,
    });
    const failures = [...rounds.hook, ...rounds.stack].reduce((n, r) => n + r.errors + r.non2xx, 0);
    console.log(`  errors and non-2xx answers of the service over all rounds: ${failures}`);

    const ratio = median(ratios);
    const hookP99 = medianOf(rounds.hook, (r) => r.p99);
    const spread = (values: number[]) =>
      `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)})`;
    const rate = (which: Endpoint) =>
      `${Math.round(medianOf(rounds[which], (r) => r.requestsPerSec))} req/s`;
    const latency = (which: Endpoint) =>
      `${medianOf(rounds[which], (r) => r.p50)} / ${medianOf(rounds[which], (r) => r.p99)} ms`;
    return [
      {
        measure: `patient-view throughput (${CONNECTIONS} conns, median of ${ROUNDS} x ${roundSec} s)`,
        value: rate('hook'),
        goal: '-',
        verdict: judge(failures === 0),
      },
      {
        measure: 'same service replaying a stored answer (no analysis)',
        value: rate('stack'),
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: 'bare express JSON endpoint throughput',
        value: rate('bare'),
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: 'throughput ratio patient-view / bare (median of rounds)',
        value: spread(ratios),
        goal: '>= 0.6',
        verdict: judge(ratio >= 0.6),
      },
      {
        measure: 'throughput ratio stored answer / bare (the stack alone)',
        value: spread(stackRatios),
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: `patient-view latency p50 / p99 (${CONNECTIONS} conns)`,
        value: `${medianOf(rounds.hook, (r) => r.p50)} / ${hookP99} ms`,
        goal: 'p99 < 25 ms',
        verdict: judge(hookP99 < 25),
      },
      {
        measure: `stored answer latency p50 / p99 (${CONNECTIONS} conns)`,
        value: latency('stack'),
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: `bare express latency p50 / p99 (${CONNECTIONS} conns)`,
        value: latency('bare'),
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: 'patient-view latency p50 / p99 (1 conn)',
        value: `${single.p50} / ${single.p99} ms`,
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: 'bare express latency p50 / p99 (1 conn)',
        value: `${singleBare.p50} / ${singleBare.p99} ms`,
        goal: '-',
        verdict: 'n/a',
      },
    ];
  } finally {
    await servers.close();
    await stackServer.close();
  }
}

interface BenchServer {
  /** The string fields of the first line the script printed. */
  info: Record<string, string>;
  close(): Promise<void>;
}

/** Starts a bench/*.ts server script in its own process and waits for its first JSON line. */
async function startBenchServer(scriptName: string, args: string[]): Promise<BenchServer> {
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const script = fileURLToPath(new URL(scriptName, import.meta.url));
  const child = spawn(tsx, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline >= 0) {
        resolve(text.slice(0, newline));
      }
    });
    child.once('exit', (code) => reject(new Error(`${scriptName} exited with ${String(code)}`)));
  });
  const parsed: unknown = JSON.parse(first);
  const info: Record<string, string> = {};
  if (typeof parsed === 'object' && parsed !== null) {
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string') {
        info[key] = value;
      }
    }
  }
  return {
    info,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

interface SlowFhirServer {
  url: string;
  patientId: string;
  kind: string;
  starts(): Promise<number[]>;
  close(): Promise<void>;
}

async function startSlowFhirServer(stub: boolean): Promise<SlowFhirServer> {
  const server = await startBenchServer('./slow-fhir-server.ts', [
    '--delay',
    String(FHIR_DELAY_MS),
    ...(stub ? ['--stub'] : []),
  ]);
  const url = server.info.url ?? '';
  return {
    url,
    patientId: server.info.patientId ?? '',
    kind: server.info.kind ?? '',
    starts: async () => {
      const res = await fetch(new URL('/__starts', url));
      const list: unknown = await res.json();
      return Array.isArray(list) ? list.filter((t): t is number => typeof t === 'number') : [];
    },
    close: () => server.close(),
  };
}

/** Requests that start more than half a delay apart belong to different sequential waves. */
function countWaves(starts: number[]): number {
  const sorted = [...starts].sort((a, b) => a - b);
  return sorted.filter((t, i) => i === 0 || t - (sorted[i - 1] ?? t) > FHIR_DELAY_MS / 2).length;
}

export async function benchFetchPath(stub = false): Promise<Figure[]> {
  const now = new Date();
  const fhir = await startSlowFhirServer(stub);
  const tag = stub ? '[stub FHIR] ' : '[embedded FHIR] ';
  const service = await startBenchServer('./throughput-servers.ts', [
    '--now',
    now.toISOString(),
    '--serve',
    'hook',
  ]);
  const hookUrl = service.info.hook ?? '';
  try {
    const fhirBase = fhir.url;
    const single: number[] = [];
    const labSearch: number[] = [];
    const hook: number[] = [];
    let cards = 0;
    let status = 0;
    let requestsPerHook = 0;
    let waves = 0;
    const callHook = () =>
      fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          buildWorkloadBody({ prefetch: false, fhirServer: fhirBase, patientId: fhir.patientId }),
        ),
      });
    // Unrecorded calls first: the first calls of a fresh process run unoptimised code.
    for (let i = 0; i < FETCH_WARM_UP_CALLS; i += 1) {
      await (await callHook()).arrayBuffer();
    }
    for (let i = 0; i < SAMPLES; i += 1) {
      let started = performance.now();
      const one = await fetch(`${fhirBase}/Patient/${fhir.patientId}`);
      await one.arrayBuffer();
      single.push(performance.now() - started);

      started = performance.now();
      const search = await fetch(`${fhirBase}/Observation?patient=${fhir.patientId}&_count=200`);
      await search.arrayBuffer();
      labSearch.push(performance.now() - started);

      const before = (await fhir.starts()).length;
      started = performance.now();
      const res = await callHook();
      const json = (await res.json()) as { cards?: unknown[] };
      hook.push(performance.now() - started);
      status = res.status;
      cards = json.cards?.length ?? 0;
      const after = (await fhir.starts()).slice(before);
      requestsPerHook = after.length;
      waves = countWaves(after);
    }
    const oneMs = median(single);
    const searchMs = median(labSearch);
    const hookMs = median(hook);
    // The hook's wave lasts as long as its slowest query, the laboratory search.
    const ratio = hookMs / searchMs;
    console.log(
      `fetch path: ${fhir.kind} + ${FHIR_DELAY_MS} ms per response; hook answers ${status} with ` +
        `${cards} card(s) after ${requestsPerHook} FHIR requests in ${waves} wave(s); medians of ${SAMPLES}`,
    );
    return [
      {
        measure: `${tag}one FHIR request (server adds ${FHIR_DELAY_MS} ms)`,
        value: `${oneMs.toFixed(1)} ms`,
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: `${tag}one FHIR laboratory search (same delay)`,
        value: `${searchMs.toFixed(1)} ms`,
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: `${tag}patient-view, no prefetch (${requestsPerHook} FHIR requests, ${waves} wave)`,
        value: `${hookMs.toFixed(1)} ms`,
        goal: '-',
        verdict: judge(status === 200),
      },
      {
        measure: `${tag}fetch-path ratio hook / one Patient read`,
        value: (hookMs / oneMs).toFixed(2),
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: `${tag}fetch-path ratio hook / one laboratory search`,
        value: ratio.toFixed(2),
        goal: '<= 1.3',
        verdict: judge(ratio <= 1.3),
      },
    ];
  } finally {
    await service.close();
    await fhir.close();
  }
}
