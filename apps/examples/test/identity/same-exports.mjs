// Every export of every package is the same value through import and require,
// and every exported class keeps its name in the build;
// the vitest-only conformance kit loads through import and refuses require clearly.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const packages = ['@aioloop/core', '@aioloop/net', '@aioloop/subprocess', '@aioloop/signals', '@aioloop/policy', '@aioloop/testing'];
let compared = 0;
for (const name of packages) {
  const imported = await import(name);
  const required = require(name);
  const keys = Object.keys(required).filter((key) => key !== '__esModule');
  if (keys.length === 0) throw new Error(`${name}: require() gave no exports`);
  for (const key of keys) {
    if (imported[key] !== required[key]) throw new Error(`${name}: export ${key} differs between import and require`);
    // A class keeps its own name in the build (err.constructor.name, stack traces, util.inspect).
    const value = required[key];
    if (typeof value === 'function' && /^[A-Z]/.test(key) && value.name !== key) throw new Error(`${name}: class ${key} is named ${JSON.stringify(value.name)} in the build`);
    compared += 1;
  }
  for (const key of Object.keys(imported)) {
    if (!(key in required)) throw new Error(`${name}: export ${key} exists only through import`);
  }
}
const conformance = await import('@aioloop/testing/conformance');
if (typeof conformance.describeTransportConformance !== 'function') throw new Error('conformance kit did not load through import');
let refused = '';
try {
  require('@aioloop/testing/conformance');
} catch (error) {
  refused = error.code;
}
// Node says ERR_PACKAGE_PATH_NOT_EXPORTED, Bun MODULE_NOT_FOUND.
if (refused !== 'ERR_PACKAGE_PATH_NOT_EXPORTED' && refused !== 'MODULE_NOT_FOUND') throw new Error(`require('@aioloop/testing/conformance') gave ${refused || 'no error'}`);
console.log(`ok: ${compared} exports of ${packages.length} packages identical through import and require; conformance is import-only`);
