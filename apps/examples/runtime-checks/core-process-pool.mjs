// @aioloop/core: ProcessPoolExecutor runs a function in a child process, and an
// idle pool does not keep the program alive (no shutdown() here on purpose).
import { EventLoop, ProcessPoolExecutor } from '@aioloop/core';

const loop = new EventLoop();
const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
const pid = await loop.runUntilComplete(() => loop.runInExecutor(pool, () => process.pid));
loop.close();
if (typeof pid !== 'number' || pid === process.pid) throw new Error(`got pid ${pid}`);
console.log('ok: ProcessPoolExecutor');
