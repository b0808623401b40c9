#!/usr/bin/env node
// npm install script: use the prebuilt binary when one fits this platform,
// else build from source. A failed build does not fail the install: the
// package is an optional dependency, and @aioloop/net explains at run time
// what is missing.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (!loads()) {
  try {
    buildNative();
  } catch (error) {
    console.warn(`@aioloop/native-sockets: no prebuilt binary for ${process.platform}-${process.arch} and the source build failed (${error.message}).`);
    console.warn('@aioloop/net works without it except for sockets, fd watchers and sock* methods; install a C++ compiler and run `npm rebuild @aioloop/native-sockets`.');
  }
}
