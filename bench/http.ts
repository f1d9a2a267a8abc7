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
import { buildWorkloadBody } from './workload.js';

const CONNECTIONS = 32;
const FHIR_DELAY_MS = 100;
const SAMPLES = 15;

/** The app exactly as `src/main.ts` assembles it, trend-link publisher included. */
async function buildServiceApp(now: Date) {
  const config = loadConfig({ EMBEDDED_FHIR: 'false', LOG_LEVEL: 'info' });
  // Log lines are serialised as in production, then dropped instead of written to a terminal.
  const { app } = await assembleService(config, {
    logDestination: { write: () => undefined },
    processMetrics: false,
    now: () => now,
  });
  return app;
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

export async function benchThroughput(durationSec: number): Promise<Figure[]> {
  const now = new Date();
  const serviceName = services[0]?.definition.id ?? '(none)';
  const service = await listenOnLoopback(await buildServiceApp(now));
  const bare = await listenOnLoopback(buildBareApp());
  const body = JSON.stringify(buildWorkloadBody({ now }));
  const hookUrl = `${service.url}/cds-services/${serviceName}`;
  const bareUrl = `${bare.url}/bare`;
  const roundSec = Math.max(1, Math.round(durationSec / 2));
  try {
    const probe = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const cards = ((await probe.json()) as { cards?: unknown[] }).cards?.length ?? 0;
    console.log(
      `throughput: service '${serviceName}' from hooks/index.ts, full prefetch ` +
        `(${Math.round(body.length / 1024)} KiB body), answers ${probe.status} with ${cards} card(s); ` +
        `${ROUNDS} alternating rounds of ${roundSec} s per endpoint`,
    );

    // The hook path has far more code for the JIT to settle than the bare endpoint.
    await runLoad({ url: hookUrl, body, connections: CONNECTIONS, durationSec: 3 });
    await runLoad({ url: bareUrl, body, connections: CONNECTIONS, durationSec: 1 });
    const hookRounds: LoadResult[] = [];
    const bareRounds: LoadResult[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Which endpoint goes first alternates too, so neither always meets the warmer machine.
      const order = round % 2 === 0 ? ['hook', 'bare'] : ['bare', 'hook'];
      for (const which of order) {
        const result = await runLoad({
          url: which === 'hook' ? hookUrl : bareUrl,
          body,
          connections: CONNECTIONS,
          durationSec: roundSec,
        });
        (which === 'hook' ? hookRounds : bareRounds).push(result);
      }
      const hook = hookRounds[round];
      const base = bareRounds[round];
      ratios.push(
        hook !== undefined && base !== undefined ? hook.requestsPerSec / base.requestsPerSec : 0,
      );
      console.log(
        `  round ${round + 1}: patient-view ${describeLoad(hook)}; bare ${describeLoad(base)}; ` +
          `ratio ${(ratios[round] ?? 0).toFixed(2)}`,
      );
    }
    // One connection: the service's own latency without queueing behind 31 other requests.
    const single = await runLoad({
      url: hookUrl,
      body,
      connections: 1,
      durationSec: Math.min(3, durationSec),
    });
    const singleBare = await runLoad({
      url: bareUrl,
      body,
      connections: 1,
      durationSec: Math.min(3, durationSec),
    });
    const failures = hookRounds.reduce((n, r) => n + r.errors + r.non2xx, 0);
    console.log(`  patient-view errors and non-2xx answers over all rounds: ${failures}`);

    const ratio = median(ratios);
    const hookP99 = medianOf(hookRounds, (r) => r.p99);
    return [
      {
        measure: `patient-view throughput (${CONNECTIONS} conns, median of ${ROUNDS} x ${roundSec} s)`,
        value: `${Math.round(medianOf(hookRounds, (r) => r.requestsPerSec))} req/s`,
        goal: '-',
        verdict: judge(failures === 0),
      },
      {
        measure: 'bare express JSON endpoint throughput',
        value: `${Math.round(medianOf(bareRounds, (r) => r.requestsPerSec))} req/s`,
        goal: '-',
        verdict: 'n/a',
      },
      {
        measure: 'throughput ratio patient-view / bare (median of rounds)',
        value: `${ratio.toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
        goal: '>= 0.6',
        verdict: judge(ratio >= 0.6),
      },
      {
        measure: `patient-view latency p50 / p99 (${CONNECTIONS} conns)`,
        value: `${medianOf(hookRounds, (r) => r.p50)} / ${hookP99} ms`,
        goal: 'p99 < 25 ms',
        verdict: judge(hookP99 < 25),
      },
      {
        measure: `bare express latency p50 / p99 (${CONNECTIONS} conns)`,
        value: `${medianOf(bareRounds, (r) => r.p50)} / ${medianOf(bareRounds, (r) => r.p99)} ms`,
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
    await service.close();
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
