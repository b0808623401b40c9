/**
 * How a function is described so that it can run on another thread or in
 * another process.
 *
 * JavaScript functions cannot cross a thread or process boundary: a worker has
 * its own heap, and a function's closure (the variables of the scope it was
 * written in) lives in the sender's heap. Two forms are accepted instead:
 *
 * 1. a {@link WorkerFunctionRef} naming a module file and one of its exports,
 *    which the worker loads with dynamic `import()` (once per worker);
 * 2. a plain, self-contained function, sent as its source text
 *    (`Function.prototype.toString`) and rebuilt in the worker.
 *
 * @module
 */

import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Names an exported function of a module file, so that a worker can load it
 * with dynamic `import()`. Create one with {@link workerFunction}.
 */
export interface WorkerFunctionRef {
  /** The module: an absolute file path, a `file:` URL, or a `node:` builtin. */
  readonly module: string;
  /** The name of the export; `'default'` for the default export. */
  readonly exportName: string;
}

/**
 * A function that can run on another thread or process: either a
 * self-contained plain function (sent as its source text) or a
 * {@link WorkerFunctionRef}. See `docs/executors.md` for exactly what a
 * self-contained function may use.
 */
export type WorkerCallable = ((...args: never[]) => unknown) | WorkerFunctionRef;

/**
 * A function cannot be sent to a worker (a class, a bound, native or generator
 * function, a method written in shorthand, a bad {@link WorkerFunctionRef}, ...),
 * or it used a variable of its enclosing scope when it ran in the worker. The
 * message says why and what is accepted instead.
 */
export class WorkerCallableError extends TypeError {
  override name = 'WorkerCallableError';
}

/**
 * Describes the export `exportName` (default `'default'`) of the module
 * `module` as a function a worker can load and call.
 *
 * @param module - An absolute file path, a `file:` URL (string or `URL`), or a
 *   `node:` builtin specifier. Relative paths and bare package names are
 *   rejected because a worker would resolve them against a different base;
 *   resolve them first, e.g. `new URL('./work.mjs', import.meta.url)` or
 *   `require.resolve('pkg')`.
 * @param exportName - The export to call; `'default'` when omitted.
 * @returns A frozen {@link WorkerFunctionRef} whose `module` is normalized to a
 *   `file:` URL string (or the `node:` specifier).
 * @throws {@link WorkerCallableError} if `module` or `exportName` is not acceptable.
 *
 * @example
 * ```ts
 * const hash = workerFunction(new URL('./hash.mjs', import.meta.url), 'sha256File');
 * const digest = await executor.submit(hash, ['/var/data/big.bin']);
 * ```
 */
export function workerFunction(module: string | URL, exportName = 'default'): WorkerFunctionRef {
  return Object.freeze({ module: normalizeModule(module), exportName: checkExportName(exportName) });
}

/** The source form of a prepared callable. @internal */
export interface SourceCallable {
  readonly kind: 'source';
  /** The function's source text. */
  readonly source: string;
  /** Whether to rebuild it in strict mode. */
  readonly strict: boolean;
  /** The function's name, for stack traces (may be empty). */
  readonly name: string;
}

/** The module form of a prepared callable. @internal */
export interface ModuleCallable {
  readonly kind: 'module';
  /** A `file:` URL string or a `node:` specifier. */
  readonly module: string;
  readonly exportName: string;
}

/**
 * A validated callable, as sent to a worker (a plain, cloneable object), with a
 * label for error messages kept on the sending side.
 * @internal
 */
export interface PreparedCallable {
  /** What the worker receives. */
  readonly wire: SourceCallable | ModuleCallable;
  /** How error messages name the function: `function "f"`, `export "x" of file:///...`. */
  readonly label: string;
}

const prepared = new WeakMap<object, PreparedCallable>();

/**
 * Validates `fn` and turns it into what a worker receives. Results for plain
 * functions are cached per function object, so the (compile-only) check runs
 * once per function.
 *
 * @throws {@link WorkerCallableError} if `fn` cannot be sent.
 * @internal
 */
export function prepareCallable(fn: unknown): PreparedCallable {
  if (typeof fn !== 'function') {
    if (isFunctionRefLike(fn)) {
      const cached = prepared.get(fn);
      if (cached !== undefined) return cached;
      const wire: ModuleCallable = {
        kind: 'module',
        module: normalizeModule(fn.module),
        exportName: checkExportName(fn.exportName),
      };
      const result = { wire, label: `export "${wire.exportName}" of ${wire.module}` };
      if (Object.isFrozen(fn)) prepared.set(fn, result);
      return result;
    }
    throw new WorkerCallableError(
      `cannot send ${describeValue(fn)} to a worker: ${ACCEPTED}`,
    );
  }
  const cached = prepared.get(fn);
  if (cached !== undefined) return cached;
  const result = prepareFunction(fn as (...args: unknown[]) => unknown);
  prepared.set(fn, result);
  return result;
}

const ACCEPTED =
  'expected a self-contained function (a `function` or arrow function, sync or async, that uses only its ' +
  'parameters, globals, `require` and `await import()`) or a WorkerFunctionRef from workerFunction(module, exportName)';

const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;

function prepareFunction(fn: (...args: unknown[]) => unknown): PreparedCallable {
  const name = typeof fn.name === 'string' ? fn.name : '';
  const label = name === '' ? 'an anonymous function' : `function "${name}"`;
  const tag = Object.prototype.toString.call(fn);
  if (tag === '[object GeneratorFunction]' || tag === '[object AsyncGeneratorFunction]') {
    throw new WorkerCallableError(
      `${label} is a generator function, which cannot be sent to a worker: a worker call returns one ` +
        'result, not an iterator. Collect the values in the worker and return an array instead',
    );
  }
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    throw new WorkerCallableError(`the source text of ${label} is not available, so it cannot be sent: ${ACCEPTED}`);
  }
  if (NATIVE_CODE.test(source)) {
    if (name.startsWith('bound ')) {
      throw new WorkerCallableError(
        `${label} is a bound function, which cannot be sent to a worker: its bound \`this\` and arguments ` +
          'live in this thread. Send the unbound function and pass the bound values as arguments',
      );
    }
    throw new WorkerCallableError(
      `${label} is a native (built-in) function, whose source text is not available, so it cannot be sent ` +
        'to a worker. Wrap the call in a self-contained function, e.g. `(...args) => Math.max(...args)`, ' +
        "or name it with workerFunction('node:module', 'export')",
    );
  }
  if (/^class\b/.test(source)) {
    throw new WorkerCallableError(
      `${label} is a class, which cannot be sent to a worker: classes are called with \`new\`, and instances ` +
        'lose their prototype when copied. Send a function that constructs and uses the class inside the worker',
    );
  }
  // The worker rebuilds the function by evaluating `(<source>)`. Compile that
  // expression here too (without running it), so whatever passes this check
  // also rebuilds in the worker, and whatever does not is reported now.
  // Strict mode unless the function is known to be sloppy (sloppy `function`s
  // have own `caller`/`arguments` properties); arrows from sloppy scripts fall
  // back to sloppy mode if they only compile there.
  const sloppyFunction = Object.prototype.hasOwnProperty.call(fn, 'caller');
  let strict = !sloppyFunction;
  let syntaxError = compileError(source, strict);
  if (syntaxError !== undefined && strict && !isFunctionKeywordSource(source)) {
    if (compileError(source, false) === undefined) {
      strict = false;
      syntaxError = undefined;
    }
  }
  if (syntaxError !== undefined) {
    if (!isFunctionKeywordSource(source) && !isArrowSource(source)) {
      throw new WorkerCallableError(
        `${label} is written in method shorthand (\`${abbreviate(source)}\`): method shorthand cannot be sent; ` +
          'use a function expression (`name: function (...) {...}` or an arrow function) that does not use `this` or `super`',
      );
    }
    if (/\bsuper\b/.test(syntaxError.message)) {
      throw new WorkerCallableError(
        `${label} uses \`super\`, which cannot be sent to a worker: functions run in a worker must be self-contained`,
      );
    }
    throw new WorkerCallableError(
      `${label} cannot be rebuilt from its source text (${syntaxError.message}): ${ACCEPTED}`,
    );
  }
  return { wire: { kind: 'source', source, strict, name }, label };
}

/** Compiles (without calling) `(<source>)`; returns the SyntaxError, if any. */
function compileError(source: string, strict: boolean): SyntaxError | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function(`${strict ? '"use strict";' : ''}return (${source}\n);`);
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return error;
    // Code generation from strings is disabled here (EvalError); the worker
    // will report any problem instead.
    return undefined;
  }
}

function isFunctionKeywordSource(source: string): boolean {
  return /^(?:async\s+)?function\b/.test(source);
}

function isArrowSource(source: string): boolean {
  // `(a) => ...`, `a => ...`, `async (a) => ...`, `async a => ...`
  return /^(?:async\s*)?\(/.test(source) || /^(?:async\s+)?[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$\u200c\u200d]*\s*=>/u.test(source);
}

function abbreviate(source: string): string {
  const firstLine = source.split('\n', 1)[0] ?? '';
  return firstLine.length > 40 ? `${firstLine.slice(0, 40)}...` : firstLine;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === 'string' && ctor.name !== '' ? `an object (${ctor.name})` : 'an object';
  }
  if (typeof value === 'string') return `a string (${JSON.stringify(abbreviate(value))})`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function isFunctionRefLike(value: unknown): value is WorkerFunctionRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    'module' in value &&
    'exportName' in value
  );
}

function normalizeModule(module: unknown): string {
  if (module instanceof URL) module = module.href;
  if (typeof module !== 'string' || module === '') {
    throw new WorkerCallableError(
      `workerFunction(): the module must be an absolute file path, a file: URL or a node: builtin, got ${describeValue(module)}`,
    );
  }
  if (module.startsWith('node:')) return module;
  if (module.startsWith('file:')) {
    try {
      // Validates the URL (host, encoding) the same way import() will.
      fileURLToPath(module);
    } catch (error) {
      throw new WorkerCallableError(
        `workerFunction(): ${JSON.stringify(module)} is not a valid file: URL (${(error as Error).message})`,
      );
    }
    return new URL(module).href;
  }
  if (isAbsolute(module)) return pathToFileURL(module).href;
  throw new WorkerCallableError(
    `workerFunction(): the module ${JSON.stringify(module)} must be an absolute file path, a file: URL or a node: ` +
      'builtin; a worker would resolve a relative path or a package name against a different base. Resolve it ' +
      "first, e.g. new URL('./work.mjs', import.meta.url) or require.resolve('pkg')",
  );
}

function checkExportName(exportName: unknown): string {
  if (typeof exportName !== 'string' || exportName === '') {
    throw new WorkerCallableError(
      `workerFunction(): the export name must be a non-empty string, got ${describeValue(exportName)}`,
    );
  }
  return exportName;
}

/**
 * JavaScript source, shared by thread and process workers, that defines
 * `__aioloopCreateRuntime(canClone)`. The runtime rebuilds or imports the
 * callable (with per-worker caches), calls it, and encodes thrown values so
 * that their `name`, `message`, `stack`, `code`, other cloneable own
 * properties, `cause` and `errors` survive the trip back.
 *
 * It is kept as text (not a function's `toString()`) so that no bundler or
 * test transform can inject helpers into it. It must stay plain CommonJS
 * script code: it runs in `new Worker(src, { eval: true })` and `node -e`.
 * @internal
 */
export const WORKER_RUNTIME_SOURCE = `
function __aioloopCreateRuntime(canClone) {
  'use strict';
  const nodePath = require('node:path');
  const nodeModule = require('node:module');
  // Relative require() calls in sent functions resolve from the working directory.
  const userRequire = nodeModule.createRequire(nodePath.join(process.cwd(), '[aioloop worker]'));
  const MAX_FUNCTIONS = 512;
  const functions = new Map();
  // Helpers that source transforms put inside function bodies, so that a
  // function written in a Vite/vitest-transformed file or an esbuild
  // keepNames build still runs: import() rewritten by Vite's SSR transform,
  // and esbuild's __name().
  const viteImport = (specifier, options) => import(specifier, options);
  const setName = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });
  const modules = new Map();

  function rebuild(c) {
    const key = (c.strict ? 's' : 'l') + c.source;
    let fn = functions.get(key);
    if (fn === undefined) {
      const label = String(c.name || 'anonymous').replace(/[^A-Za-z0-9_$.-]/g, '_');
      const body = (c.strict ? '"use strict";' : '') + 'return (' + c.source + '\\n);\\n//# sourceURL=aioloop-worker-function:' + label;
      fn = new Function('require', '__vite_ssr_dynamic_import__', '__name', body)(userRequire, viteImport, setName);
      if (functions.size >= MAX_FUNCTIONS) functions.delete(functions.keys().next().value);
      functions.set(key, fn);
    }
    return fn;
  }

  async function load(c) {
    let loading = modules.get(c.module);
    if (loading === undefined) {
      loading = import(c.module);
      modules.set(c.module, loading);
      loading.catch(() => modules.delete(c.module));
    }
    const namespace = await loading;
    const fn = namespace[c.exportName];
    if (typeof fn !== 'function') {
      const error = new TypeError('export "' + c.exportName + '" of ' + c.module + ' is ' +
        (fn === undefined ? 'missing' : 'not a function (' + typeof fn + ')') +
        '; the module exports: ' + (Object.keys(namespace).join(', ') || 'nothing'));
      Object.defineProperty(error, 'name', { value: 'WorkerCallableError', configurable: true, writable: true });
      throw error;
    }
    return fn;
  }

  async function run(c, args) {
    const fn = c.kind === 'source' ? rebuild(c) : await load(c);
    return await Reflect.apply(fn, undefined, args);
  }

  function str(value) {
    try { return String(value); } catch { return Object.prototype.toString.call(value); }
  }

  function isErrorLike(value) {
    if (value instanceof Error) return true;
    return value !== null && typeof value === 'object' &&
      typeof value.message === 'string' && typeof value.stack === 'string';
  }

  function encodeThrown(value, depth) {
    depth = depth || 0;
    if (isErrorLike(value)) return encodeError(value, depth);
    if (canClone(value)) return { $value: value };
    return { $error: true, name: 'Error', message: 'the worker threw a value that cannot be copied: ' + str(value), props: {} };
  }

  function encodeError(error, depth) {
    let name = 'Error';
    try { name = str(error.name); } catch {}
    let message = '';
    try { message = str(error.message); } catch {}
    let stack;
    try { if (typeof error.stack === 'string') stack = error.stack; } catch {}
    const out = { $error: true, name, message, stack, props: {} };
    const keys = Object.keys(error);
    if (!keys.includes('code') && 'code' in error) keys.push('code');
    for (const key of keys) {
      if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause' || key === 'errors') continue;
      let value;
      try { value = error[key]; } catch { continue; }
      if (typeof value !== 'function' && canClone(value)) out.props[key] = value;
    }
    if (depth < 8) {
      try {
        if ('cause' in error) out.cause = encodeThrown(error.cause, depth + 1);
        if (Array.isArray(error.errors)) out.errors = error.errors.map((e) => encodeThrown(e, depth + 1));
      } catch {}
    }
    return out;
  }

  return { run, encodeThrown };
}
`;
