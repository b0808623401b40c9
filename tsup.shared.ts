import { defineConfig, type Options } from 'tsup';

/** The build every published package shares: ESM + CJS + .d.ts for Node 20, one entry per export. */
export function packageBuildConfig(entry: string[] = ['src/index.ts']): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  }) as Options | Options[];
}
