import { defineConfig } from 'tsup';

// As tsup.shared.ts, plus shims: the CJS build needs import.meta.url to find the binary.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  shims: true,
  target: 'node20',
});
