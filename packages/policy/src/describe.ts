/** @internal A short description of any value for error messages ("null", "number 3", "Foo object"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `function ${value.name || '<anonymous>'}`;
    default: {
      if (Array.isArray(value)) return `array(${value.length})`;
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      const name = ctor !== undefined && typeof ctor.name === 'string' ? ctor.name : '';
      return name !== '' && name !== 'Object' ? `${name} object` : 'plain object';
    }
  }
}
