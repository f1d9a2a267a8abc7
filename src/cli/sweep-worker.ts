import { parentPort } from 'node:worker_threads';
import { services } from '../../hooks/index.js';
import { loadCardContent } from '../cards/load-content.js';
import { InputError } from './cli-error.js';
import {
  assessPartition,
  partitionFile,
  type AssessTask,
  type PartitionTask,
} from './sweep-tasks.js';
import { createKindClassifier } from './sweep-summary.js';

/** Messages a sweep worker sends to the main thread. */
export type WorkerMessage =
  | { type: 'progress'; bytes?: number; patients?: number }
  | { type: 'done'; result: unknown }
  | { type: 'error'; input: boolean; message: string };

const port = parentPort;
if (port === null) {
  throw new Error('sweep-worker runs in a worker thread');
}
const service = services.find((s) => s.definition.hook === 'patient-view');
const kindOf = createKindClassifier(loadCardContent());

port.on('message', (task: PartitionTask | AssessTask) => {
  void run(task).then(
    (result) => port.postMessage({ type: 'done', result } satisfies WorkerMessage),
    (error: unknown) =>
      port.postMessage({
        type: 'error',
        input: error instanceof InputError,
        message:
          error instanceof Error
            ? error instanceof InputError
              ? error.message
              : (error.stack ?? error.message)
            : String(error),
      } satisfies WorkerMessage),
  );
});

async function run(task: PartitionTask | AssessTask): Promise<unknown> {
  if (task.task === 'partition') {
    return partitionFile(task, (bytes) =>
      port?.postMessage({ type: 'progress', bytes } satisfies WorkerMessage),
    );
  }
  if (service === undefined) {
    throw new Error('no patient-view service is registered in hooks/index.ts');
  }
  let reported = 0;
  return assessPartition(task, service, kindOf, (done) => {
    port?.postMessage({ type: 'progress', patients: done - reported } satisfies WorkerMessage);
    reported = done;
  });
}
