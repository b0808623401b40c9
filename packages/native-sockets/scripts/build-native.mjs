#!/usr/bin/env node
// Builds the addon with node-gyp, offline, into prebuilds/<platform>-<arch>/
// (node-gyp-build's layout, as prebuildify names it), so the npm package
// carries a ready binary and loading needs no compiler.
//
//   node scripts/build-native.mjs           build when a source is newer than the binary
//   node scripts/build-native.mjs --force   always rebuild (prepack does)
//
// Node's headers: node-gyp downloads them unless told where they are. They
// ship with Node under <prefix>/include/node, and <prefix> is found from the
// running node binary, so no ~/.npmrc `nodedir` is needed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');

export function prebuildPath() {
  const libc = process.platform === 'linux' ? (process.report?.getReport().header.glibcVersionRuntime ? '.glibc' : '.musl') : '';
  return join(root, 'prebuilds', `${process.platform}-${process.arch}`, `node.napi${libc}.node`);
}

function newestSource() {
  let newest = statSync(join(root, 'binding.gyp')).mtimeMs;
  for (const name of readdirSync(join(root, 'src/native'))) newest = Math.max(newest, statSync(join(root, 'src/native', name)).mtimeMs);
  return newest;
}

/** The directory holding include/node/node_api.h for the running Node, or undefined. */
export function findNodedir() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))];
  return candidates.find((dir) => dir && existsSync(join(dir, 'include', 'node', 'node_api.h')) && existsSync(join(dir, 'include', 'node', 'common.gypi')));
}

/** node-gyp's CLI script: the one npm/pnpm hand to install scripts, a local one, or npm's own. */
function findNodeGyp() {
  const require = createRequire(join(root, 'package.json'));
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((file) => file && existsSync(file));
}

export function buildNative({ rebuild = false } = {}) {
  const target = prebuildPath();
  if (!rebuild && existsSync(target) && statSync(target).mtimeMs >= newestSource()) return target;
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) throw new Error('node-gyp was not found (it comes with npm); install it with `npm install -g node-gyp`');
  const nodedir = findNodedir();
  const args = [nodeGyp, 'rebuild', '--release'];
  // Without headers next to node, node-gyp falls back to its cache or a download.
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`node-gyp rebuild failed (exit ${result.status ?? result.signal})`);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join(root, 'build', 'Release', 'aioloop_native_sockets.node'), target);
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const file = buildNative({ rebuild: force });
    console.log(`@aioloop/native-sockets: ${file}`);
  } catch (error) {
    console.error(`@aioloop/native-sockets: ${error.message}`);
    process.exit(1);
  }
}
