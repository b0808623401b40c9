export { sleep } from './sleep.js';
export { ensureFuture, wrapFuture } from './ensure-future.js';
