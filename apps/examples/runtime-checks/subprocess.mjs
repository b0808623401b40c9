// @aioloop/subprocess: createSubprocessExec with pipes (communicate) and the exit code.
import { EventLoop } from '@aioloop/core';
import { createSubprocessExec } from '@aioloop/subprocess';

const loop = new EventLoop();
const [out, code] = await loop.runUntilComplete(async () => {
  const proc = await createSubprocessExec('sort', [], { stdin: 'pipe', stdout: 'pipe' });
  const [stdout] = await proc.communicate(Buffer.from('b\na\n'));
  return [stdout.toString(), proc.returncode];
});
loop.close();
if (out !== 'a\nb\n' || code !== 0) throw new Error(`got ${JSON.stringify([out, code])}`);
console.log('ok: subprocess pipes and exit code');
