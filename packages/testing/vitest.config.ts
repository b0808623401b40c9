import { fileURLToPath } from 'node:url';
import { mergeConfig, type Plugin } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.js';

const coreTests = fileURLToPath(new URL('../core/test/', import.meta.url));
const shim = fileURLToPath(new URL('./test/fixtures/core-on-testloop.ts', import.meta.url));
const vitestShim = fileURLToPath(new URL('./test/fixtures/vitest-on-testloop.ts', import.meta.url));

/**
 * Core's own loop tests also run here against TestLoop (test/core-loop-on-testloop.test.ts
 * imports them): inside core's test files, `../src/index.js` resolves to a shim whose
 * `EventLoop` is a TestLoop, and `vitest`'s `it` skips the
 * few tests about real time (listed with reasons in test/fixtures/vitest-on-testloop.ts).
 */
const coreOnTestLoop: Plugin = {
  name: 'aioloop-core-tests-on-testloop',
  enforce: 'pre',
  resolveId(source, importer) {
    if (importer === undefined || !importer.startsWith(coreTests)) return null;
    if (source === '../src/index.js') return shim;
    if (source === 'vitest') return vitestShim;
    return null;
  },
};

export default mergeConfig(packageTestConfig(), { plugins: [coreOnTestLoop] });
