import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built packages (not the sources vitest aliases), loaded by plain Node in
// a child process, in every order of import and require.
const fixtures = fileURLToPath(new URL('./identity/', import.meta.url));

function runFixture(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: fixtures, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('one class identity per process, whatever mix of import and require', () => {
  it.each([
    ['import-core-require-net.mjs', 'ok: import core, then require net'],
    ['import-net-require-core.mjs', 'ok: import net, then require core'],
    ['require-core-import-net.cjs', 'ok: require core, then import net'],
    ['require-net-import-core.cjs', 'ok: require net, then import core'],
  ])('%s: a loop has @aioloop/net methods and serves on 127.0.0.1', async (file, expected) => {
    const result = await runFixture(file);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(expected);
    expect(result.code).toBe(0);
  });

  it('every export of every package is the same value through import and require; conformance is import-only', async () => {
    const result = await runFixture('same-exports.mjs');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^ok: \d+ exports of 6 packages identical through import and require; conformance is import-only\n$/);
    expect(result.code).toBe(0);
  });
});
