// Starts the service as its own process on loopback (embedded FHIR server off, a free port) and
// reports the port it prints when listening. Shared by the soak script, the start-up benchmark and the
// shutdown test, which all need the real entry point rather than an in-process app.

import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export type ServiceProcess = ChildProcessByStdio<null, Readable, Readable>;

export interface SpawnedService {
  child: ServiceProcess;
  /** Resolves with the port once the service prints its listening line; rejects if it exits first. */
  listening: Promise<number>;
}

const LISTENING_LINE = /listening on [^\s]*:(\d+)/;

export function spawnService(options: {
  command: string;
  args: string[];
  cwd: string;
  /** Where the service's stderr goes: shown to the person running the tool, or drained. */
  stderr?: 'inherit' | 'drain';
  /** Added to (or replacing) the defaults below, e.g. store URLs. */
  env?: Record<string, string>;
}): SpawnedService {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      EMBEDDED_FHIR: 'false',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (options.stderr === 'inherit') {
    child.stderr.pipe(process.stderr);
  } else {
    child.stderr.resume();
  }
  const listening = new Promise<number>((resolve, reject) => {
    let text = '';
    const onData = (chunk: string) => {
      text += chunk;
      const match = LISTENING_LINE.exec(text);
      if (match?.[1] !== undefined) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(Number(match[1]));
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited early with ${String(code)}`)));
  });
  return { child, listening };
}
