import { defineConfig, type Options } from 'tsup';

/**
 * The build every published package shares: ESM + CJS + .d.ts for Node 20, one
 * entry per export. Members marked `@internal` are left out of the .d.ts files.
 * With several entries, both formats split shared code into chunks, so a module
 * (a class, a registry) exists once whichever entry loads it.
 */
export function packageBuildConfig(entry: string[] = ['src/index.ts']): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { stripInternal: true } },
    splitting: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  }) as Options | Options[];
}
