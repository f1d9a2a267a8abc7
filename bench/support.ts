import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';

export interface LoadResult {
  requestsPerSec: number;
  total: number;
  p50: number;
  p99: number;
  mean: number;
  errors: number;
  non2xx: number;
  durationSec: number;
}

export interface LoadOptions {
  url: string;
  body?: string;
  method?: 'GET' | 'POST';
  connections: number;
  durationSec: number;
  /** Stop after this many requests instead of after `durationSec`. */
  amount?: number;
}

/** autocannon in a child process, so client and server do not share one event loop. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const autocannonOptions = {
    url: options.url,
    method: options.method ?? 'POST',
    connections: options.connections,
    duration: options.durationSec,
    ...(options.amount === undefined ? {} : { amount: options.amount }),
    headers: { 'content-type': 'application/json' },
    ...(options.body === undefined ? {} : { body: options.body }),
  };
  const script = fileURLToPath(new URL('./load-client.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify(autocannonOptions)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`load client exited with ${String(code)}`));
        return;
      }
      resolve(parseLoadResult(output));
    });
  });
}

function parseLoadResult(text: string): LoadResult {
  const parsed: unknown = JSON.parse(text);
  const read = (key: keyof LoadResult): number => {
    const value: unknown =
      typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, key) : undefined;
    return typeof value === 'number' ? value : Number.NaN;
  };
  return {
    requestsPerSec: read('requestsPerSec'),
    total: read('total'),
    p50: read('p50'),
    p99: read('p99'),
    mean: read('mean'),
    errors: read('errors'),
    non2xx: read('non2xx'),
    durationSec: read('durationSec'),
  };
}

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listenOnLoopback(app: Express): Promise<Listening> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Resident set size of a process in MB, read from /proc (Linux). */
export function readRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

export interface Figure {
  measure: string;
  value: string;
  goal: string;
  verdict: 'pass' | 'FAIL' | 'n/a';
}

export function judge(ok: boolean | undefined): Figure['verdict'] {
  return ok === undefined ? 'n/a' : ok ? 'pass' : 'FAIL';
}

export function printTable(title: string, rows: Figure[]): void {
  const headers = ['measure', 'value', 'goal', 'verdict'] as const;
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) {
    console.log(line(headers.map((h) => row[h])));
  }
}
