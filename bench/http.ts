// HTTP benchmarks on loopback:
// 1. patient-view with full prefetch through the whole app (logging, metrics, headers, validation,
//    engine, rules, cards, trend-link publishing, response check) against a bare express endpoint in the same process
//    that only parses the same JSON body and answers `{"cards":[]}`;
// 2. the fetch path: no prefetch, every key fetched from a FHIR server that adds 100 ms to each
//    response, against the latency of one request to that server.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { services } from '../hooks/index.js';
import { assembleService } from '../src/assemble-service.js';
import { loadConfig } from '../src/config.js';
import { judge, listenOnLoopback, median, runLoad } from './support.js';
import type { Figure, LoadResult } from './support.js';
import type { CdsService } from '../src/cds/service.js';
import { buildWorkloadBody } from './workload.js';

const CONNECTIONS = 32;
const FHIR_DELAY_MS = 100;
const SAMPLES = 15;

/** The app exactly as `src/main.ts` assembles it, trend-link publisher included. */
async function buildServiceApp(now: Date, served: readonly CdsService[] = services) {
  const config = loadConfig({ EMBEDDED_FHIR: 'false', LOG_LEVEL: 'info' });
  // Log lines are serialised as in production, then dropped instead of written to a terminal.
  const { app } = await assembleService(config, {
    logDestination: { write: () => undefined },
    processMetrics: false,
    now: () => now,
    services: served,
  });
  return app;
}

/**
 * The same service with its first answer stored and replayed: every layer around the analysis
 * (logging, metrics, headers, validation of request and response, the card JSON on the wire) still
 * runs, the analysis does not. Its throughput is the ceiling the protocol stack alone sets.
 */
function replayFirstAnswer(service: CdsService): CdsService {
  let answer: ReturnType<CdsService['handle']> | undefined;
  return {
    definition: service.definition,
    handle: (invocation) => (answer ??= service.handle(invocation)),
  };
}

function buildBareApp() {
  const app = express();
  app.post('/bare', express.json({ limit: '1mb' }), (_req, res) => {
    res.json({ cards: [] });
  });
  return app;
}

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

export async function benchThroughput(durationSec: number): Promise<Figure[]> {
  const now = new Date();
  const service = services[0];
  if (service === undefined) {
    throw new Error('hooks/index.ts defines no service');
  }
  const serviceName = service.definition.id;
  const full = await listenOnLoopback(await buildServiceApp(now));
  const stack = await listenOnLoopback(await buildServiceApp(now, [replayFirstAnswer(service)]));
  const bare = await listenOnLoopback(buildBareApp());
  const body = JSON.stringify(buildWorkloadBody({ now }));
  const urls: Record<Endpoint, string> = {
    hook: `${full.url}/cds-services/${serviceName}`,
    stack: `${stack.url}/cds-services/${serviceName}`,
    bare: `${bare.url}/bare`,
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
      `throughput: service '${serviceName}' from hooks/index.ts, full prefetch ` +
        `(${Math.round(body.length / 1024)} KiB body), answers ${probe.status} with ${cards} card(s); ` +
        `${ROUNDS} rounds of ${roundSec} s per endpoint, in rotating order`,
    );

    // The hook path has far more code for the JIT to settle than the bare endpoint.
    await runLoad({ url: urls.hook, body, connections: CONNECTIONS, durationSec: 3 });
    await runLoad({ url: urls.stack, body, connections: CONNECTIONS, durationSec: 2 });
    await runLoad({ url: urls.bare, body, connections: CONNECTIONS, durationSec: 1 });
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
    await full.close();
    await stack.close();
    await bare.close();
  }
}

interface SlowFhirServer {
  url: string;
  patientId: string;
  kind: string;
  starts(): Promise<number[]>;
  close(): Promise<void>;
}

/** Starts bench/slow-fhir-server.ts in its own process and waits for its first line. */
async function startSlowFhirServer(stub: boolean): Promise<SlowFhirServer> {
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const script = fileURLToPath(new URL('./slow-fhir-server.ts', import.meta.url));
  const args = [script, '--delay', String(FHIR_DELAY_MS), ...(stub ? ['--stub'] : [])];
  const child = spawn(tsx, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline >= 0) {
        resolve(text.slice(0, newline));
      }
    });
    child.once('exit', (code) => reject(new Error(`slow FHIR server exited with ${String(code)}`)));
  });
  const info: unknown = JSON.parse(first);
  const field = (key: string): string => {
    const value: unknown =
      typeof info === 'object' && info !== null ? Reflect.get(info, key) : undefined;
    return typeof value === 'string' ? value : '';
  };
  const url = field('url');
  return {
    url,
    patientId: field('patientId'),
    kind: field('kind'),
    starts: async () => {
      const res = await fetch(new URL('/__starts', url));
      const list: unknown = await res.json();
      return Array.isArray(list) ? list.filter((t): t is number => typeof t === 'number') : [];
    },
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
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
  const service = await listenOnLoopback(await buildServiceApp(now));
  const serviceName = services[0]?.definition.id ?? '(none)';
  try {
    const fhirBase = fhir.url;
    const single: number[] = [];
    const labSearch: number[] = [];
    const hook: number[] = [];
    let cards = 0;
    let status = 0;
    let requestsPerHook = 0;
    let waves = 0;
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
      const res = await fetch(`${service.url}/cds-services/${serviceName}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          buildWorkloadBody({ prefetch: false, fhirServer: fhirBase, patientId: fhir.patientId }),
        ),
      });
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
