// @aioloop/core: ThreadPoolExecutor runs a self-contained function on a worker thread.
import { EventLoop, ThreadPoolExecutor } from '@aioloop/core';

const loop = new EventLoop();
const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
const sum = await loop.runUntilComplete(() => loop.runInExecutor(pool, (a, b) => a + b, 2, 3));
await pool.shutdown();
loop.close();
if (sum !== 5) throw new Error(`got ${sum}`);
console.log('ok: ThreadPoolExecutor');
