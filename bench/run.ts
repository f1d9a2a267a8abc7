import { benchEngine } from './engine.js';
import { benchOperations } from './ops.js';

await benchEngine();
await benchOperations();
