/**
 * A short, safe description of any value for error messages and logs
 * (`42`, `"text"`, `null`, `function name`, `Buffer(3)`, `Foo object`). Packages
 * and plugins use it so every aioloop error names what it got the same way.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return isAsyncFunction(value) ? `async function ${value.name || '<anonymous>'}` : `function ${value.name || '<anonymous>'}`;
    default: {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (Array.isArray(value)) return `array(${value.length})`;
      if (value instanceof Uint8Array) return `${value.constructor.name}(${value.byteLength})`;
      if (ctor && ctor.name && ctor.name !== 'Object') {
        const own = (value as { toString?: () => string }).toString;
        if (own && own !== Object.prototype.toString) {
          try {
            const text = String(value);
            if (text.startsWith('<')) return text;
          } catch {
            /* fall through */
          }
        }
        return `${ctor.name} object`;
      }
      return 'object';
    }
  }
}

/** @internal Whether `fn` is an `async function` / async arrow / async generator function. */
export function isAsyncFunction(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  // Plain functions have no toStringTag; AsyncFunction and AsyncGeneratorFunction do.
  const tag = (fn as unknown as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
  return tag === 'AsyncFunction' || tag === 'AsyncGeneratorFunction';
}

/**
 * Throws a TypeError for an option key `method` does not know, listing the
 * accepted ones (asyncio raises TypeError for an unexpected keyword argument).
 */
export function checkOptionKeys(options: object, method: string, accepted: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!accepted.includes(key)) {
      throw new TypeError(`${method}(): unknown option ${JSON.stringify(key)}; accepted: ${accepted.join(', ')}`);
    }
  }
}
