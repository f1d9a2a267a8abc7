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

type Progress = (message: Extract<WorkerMessage, { type: 'progress' }>) => void;

/** Worker threads kept for both passes of a sweep: each loads the service once. */
export class WorkerPool {
  private readonly workers: Worker[];

  constructor(size: number) {
    this.workers = Array.from({ length: Math.max(1, size) }, startWorker);
  }

  /** Runs `tasks` in any order; the first failure rejects (the caller then closes the pool). */
  async run<T, R>(tasks: readonly T[], onProgress: Progress): Promise<R[]> {
    const results: R[] = new Array<R>(tasks.length);
    let next = 0;
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const stop = (error: Error) => {
              next = tasks.length;
              detach();
              reject(error);
            };
            const onMessage = (message: WorkerMessage) => {
              if (message.type === 'progress') {
                onProgress(message);
              } else if (message.type === 'done') {
                results[current] = message.result as R;
                feed();
              } else {
                stop(message.input ? new InputError(message.message) : new Error(message.message));
              }
            };
            const onError = (error: Error) => stop(error);
            const onExit = (code: number) =>
              stop(new Error(`a sweep worker stopped (exit code ${code})`));
            const detach = () => {
              worker.off('message', onMessage).off('error', onError).off('exit', onExit);
            };
            const feed = () => {
              if (next >= tasks.length) {
                detach();
                resolve();
                return;
              }
              current = next;
              next += 1;
              worker.postMessage(tasks[current]);
            };
            worker.on('message', onMessage).on('error', onError).on('exit', onExit);
            feed();
          }),
      ),
    );
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
