import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/** What a package builds besides its CommonJS entries. */
export interface PackageBuildOptions {
  /**
   * Entries that exist only as ES modules, because what they import cannot be
   * required (vitest refuses `require()`). They import the package's own
   * classes through `./index.js`, so they share the CommonJS implementation.
   */
  readonly esmOnly?: readonly string[];
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Writes `<name>.js` and `<name>.d.ts` beside each built `<name>.cjs`: an ES
 * module that re-exports the CommonJS build. `import` and `require` then load
 * the same file, so a process has one `EventLoop` class (one prototype for
 * `@aioloop/net` to install its methods on) whichever way each package was loaded.
 */
function writeEsmWrappers(outDir: string, entries: readonly string[]): void {
  const requireFromPackage = createRequire(join(process.cwd(), 'package.json'));
  for (const entry of entries) {
    const name = basename(entry).replace(/\.[cm]?tsx?$/, '');
    const cjsPath = join(process.cwd(), outDir, `${name}.cjs`);
    const names = Object.keys(requireFromPackage(cjsPath) as object).filter((key) => key !== 'default' && key !== '__esModule');
    const bad = names.filter((key) => !IDENTIFIER.test(key));
    if (bad.length > 0) throw new Error(`${cjsPath}: exports ${bad.join(', ')} are not identifiers`);
    const header = `// The ES module entry re-exports the CommonJS build, so import and require share one copy of every class.\n`;
    writeFileSync(
      join(outDir, `${name}.js`),
      `${header}import cjs from './${name}.cjs';\n\nexport const {\n${names.map((key) => `  ${key},\n`).join('')}} = cjs;\n`,
    );
    writeFileSync(join(outDir, `${name}.d.ts`), `${header}export * from './${name}.cjs';\n`);
  }
}

/**
 * The CommonJS code-splitting pass (sucrase) rewrites a class with fields as
 * `var RuntimeError = (_class4 = class extends Error {...`, which names the class
 * `_class4` (`err.constructor.name`, stack traces, `util.inspect`), and esbuild
 * names a class that refers to itself `_Socket`. This sets
 * each such top-level class's name back, once, as the module loads. esbuild's `keepNames` would too,
 * but it also wraps every arrow function and closure in a `__name()` call, which
 * made task wake-ups 2.6x slower (bench/core).
 */
function nameClassExpressions(outDir: string): void {
  for (const file of readdirSync(outDir)) {
    if (!file.endsWith('.cjs')) continue;
    const path = join(outDir, file);
    const code = readFileSync(path, 'utf8');
    const names = [...code.matchAll(/^var ([A-Za-z_$][\w$]*) = (?:\(_class\d* = )?class\b/gm)].map((m) => m[1] as string);
    if (names.length === 0) continue;
    const fix = names.map((n) => `if (${n}.name !== "${n}") Object.defineProperty(${n}, "name", { value: "${n}", configurable: true });`).join('\n');
    const map = code.lastIndexOf('\n//# sourceMappingURL=');
    writeFileSync(path, map < 0 ? `${code}\n${fix}\n` : `${code.slice(0, map)}\n${fix}${code.slice(map)}`);
  }
}

/**
 * The build every published package shares, for Node 20: each entry is built
 * once, as CommonJS (with .d.cts), and gets a thin ES module wrapper (see
 * {@link writeEsmWrappers}); a second copy of the code as ESM would give every
 * class two identities in a process that both imports and requires the package.
 * Several entries (`@aioloop/core` and `@aioloop/core/internal`) share chunks
 * (`splitting`), so a class or registry exists once whichever entry loads it.
 */
export function packageBuildConfig(entry: string[] = ['src/index.ts'], options: PackageBuildOptions = {}): Options[] {
  const outDir = 'dist';
  // Cleaned here, once, because tsup runs the configs below in parallel and
  // its own `clean` in one would race with the other's output.
  rmSync(outDir, { recursive: true, force: true });
  // Members marked `@internal` are left out of the .d.ts files.
  const shared = { outDir, dts: { compilerOptions: { stripInternal: true } }, sourcemap: true, clean: false, target: 'node20' } as const;
  const configs: Options[] = [
    {
      ...shared,
      entry,
      format: ['cjs'],
      splitting: true,
      onSuccess: async () => {
        nameClassExpressions(outDir);
        writeEsmWrappers(outDir, entry);
      },
    },
  ];
  const esmOnly = options.esmOnly ?? [];
  if (esmOnly.length > 0) {
    configs.push({ ...shared, entry: [...esmOnly], format: ['esm'], external: ['./index.js'] });
  }
  return defineConfig(configs) as Options[];
}
