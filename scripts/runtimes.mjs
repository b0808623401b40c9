// The runtimes the project is checked on, pinned to exact versions. Node 22 and
// 24, Bun and Deno come from the npm registry as packages with the binary
// inside, so a machine with Node 20 and npm needs nothing else.
import { execFileSync } from 'node:child_process';

/** The oldest Node the packages support; CI runs its scripts on it. */
export const NODE_20 = { label: 'Node 20', npmPackage: 'node@20.20.2', version: 'v20.20.2' };

/** Node versions the whole test suite also runs on, besides the Node 20 running the scripts. */
export const NODE_VERSIONS = [
  { label: 'Node 22', npmPackage: 'node@22.23.3', version: 'v22.23.3' },
  { label: 'Node 24', npmPackage: 'node@24.21.0', version: 'v24.21.0' },
];

/** Other runtimes the compatibility table covers. */
export const OTHER_RUNTIMES = [
  { label: 'Bun 1.4', npmPackage: 'bun@1.4.5', version: '1.4.5', kind: 'bun' },
  { label: 'Deno 2.9', npmPackage: 'deno@2.9.6', version: '2.9.6', kind: 'deno' },
];

const PRINT_PATH = {
  node: ['-p', 'process.execPath'],
  bun: ['-p', 'process.execPath'],
  deno: ['eval', 'console.log(Deno.execPath())'],
};

/**
 * Installs (through npx's cache) and returns the absolute path of a runtime's
 * binary, so it can be spawned directly: vitest's forks then use the same binary.
 */
export function runtimeBinary(npmPackage, kind = 'node') {
  const out = execFileSync('npx', ['-y', npmPackage, ...PRINT_PATH[kind]], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const path = out.trim().split('\n').pop();
  if (!path || !path.startsWith('/')) throw new Error(`npx ${npmPackage} did not print its binary's path (got ${JSON.stringify(out)})`);
  return path;
}
