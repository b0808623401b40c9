import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { reusePortSupported } from '../src/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx');

describe('@aioloop/net without @aioloop/native-sockets', () => {
  it('TCP still works; the native features throw an error that says what is missing and how to get it', () => {
    const out = execFileSync(process.execPath, ['--require', fixture('hide-native.cjs'), '--import', tsx, fixture('native-absent.ts')], { encoding: 'utf8', timeout: 60_000 });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, { name: string; code: string; message: string } | string | number | boolean | null>;
    expect(result.available).toBe(false);
    expect(result.echoed).toBe('tcp works');
    // sendfile without the native part: the fallback runs; fallback: false says why zero-copy cannot.
    expect(result.sendfileSent).toBe(100);
    expect(result.sendfileNoFallback).toMatchObject({ name: 'SendfileNotAvailableError' });
    expect((result.sendfileNoFallback as { message: string }).message).toMatch(/native sendfile is not supported .*@aioloop\/native-sockets is not installed/);
    for (const key of ['socket', 'socketpair', 'addReader']) {
      expect(result[key]).toMatchObject({ name: 'NativeSocketsUnavailableError', code: 'ERR_AIOLOOP_NATIVE_SOCKETS' });
      const message = (result[key] as { message: string }).message;
      expect(message).toMatch(/needs the native package @aioloop\/native-sockets, which could not be loaded \(Cannot find module '@aioloop\/native-sockets'\)/);
      expect(message).toMatch(/npm install @aioloop\/native-sockets/);
    }
    expect((result.addReader as { message: string }).message).toMatch(/^loop\.addReader\(\) needs/);
    if (!reusePortSupported()) expect((result.reusePort as { message: string }).message).toMatch(/^createServer\(\{ reusePort: true \}\) on Node .* needs the native package/);
  });
});
