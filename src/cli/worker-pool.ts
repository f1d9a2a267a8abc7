import { Worker } from 'node:worker_threads';
import type { WorkerMessage } from './sweep-worker.js';
import { InputError } from './cli-error.js';

/**
 * Starts a sweep worker. From the TypeScript sources (a checkout, the tests) the worker registers
 * tsx first, since workers do not inherit the main thread's loader; compiled code needs nothing.
 */
function startWorker(): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) {
    return new Worker(new URL('./sweep-worker.js', self));
  }
  const target = new URL('./sweep-worker.ts', self).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(bootstrap, { eval: true });
}

/** Runs `tasks` on `size` workers, in any order; the first failure stops the pool and rejects. */
export async function runOnWorkers<T, R>(
  tasks: readonly T[],
  size: number,
  onProgress: (message: Extract<WorkerMessage, { type: 'progress' }>) => void,
): Promise<R[]> {
  const results: R[] = new Array<R>(tasks.length);
  const workers = Array.from({ length: Math.min(size, Math.max(tasks.length, 1)) }, startWorker);
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const feed = () => {
              if (next >= tasks.length) {
                resolve();
                return;
              }
              current = next;
              next += 1;
              worker.postMessage(tasks[current]);
            };
            worker.on('message', (message: WorkerMessage) => {
              if (message.type === 'progress') {
                onProgress(message);
              } else if (message.type === 'done') {
                results[current] = message.result as R;
                feed();
              } else {
                next = tasks.length;
                reject(
                  message.input ? new InputError(message.message) : new Error(message.message),
                );
              }
            });
            worker.on('error', (error) => {
              next = tasks.length;
              reject(error);
            });
            worker.on('exit', (code) => {
              if (next < tasks.length || current >= 0) {
                reject(new Error(`a sweep worker stopped (exit code ${code})`));
              }
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results;
}
