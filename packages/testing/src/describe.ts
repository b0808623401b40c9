/** @internal A short description of a value for error messages. */
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
      return `function ${value.name || '<anonymous>'}`;
    default: {
      if (Array.isArray(value)) return `array(${value.length})`;
      if (value instanceof Uint8Array) return `${value.constructor.name}(${value.byteLength})`;
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      return ctor && ctor.name && ctor.name !== 'Object' ? `${ctor.name} object` : 'object';
    }
  }
}

/** @internal Checks a non-negative finite number option. */
export function checkNonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${where} must be a finite number >= 0, got ${describeValue(value)}`);
  }
  return value;
}

/** @internal Checks a probability option. */
export function checkProbability(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new TypeError(`${where} must be a probability between 0 and 1, got ${describeValue(value)}`);
  }
  return value;
}

/** @internal Checks a positive whole number option. */
export function checkPositiveInt(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`${where} must be a whole number >= 1, got ${describeValue(value)}`);
  }
  return value;
}
