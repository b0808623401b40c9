import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built packages (dist), as users load them: vitest's aliases map @aioloop/* to the sources.
const cwd = fileURLToPath(new URL('..', import.meta.url));
const script = (load: string): string =>
  `${load}; const [a, b] = net.socketpair(); a.send(Buffer.from('ok')); console.log(b.recv(2).toString(), net.nativeSocketsAvailable()); a.close(); b.close();`;

describe('the built @aioloop/net loads @aioloop/native-sockets', () => {
  it('from its ESM build', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script("import * as net from '@aioloop/net'")], { cwd, encoding: 'utf8' });
    expect(out.trim()).toBe('ok true');
  });

  it('from its CommonJS build', () => {
    const out = execFileSync(process.execPath, ['-e', script("const net = require('@aioloop/net')")], { cwd, encoding: 'utf8' });
    expect(out.trim()).toBe('ok true');
  });
});
