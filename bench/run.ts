import { benchEngine } from './engine.js';
import { benchOperations } from './ops.js';
import { benchSweep } from './sweep.js';

await benchEngine();
await benchOperations();
await benchSweep();
