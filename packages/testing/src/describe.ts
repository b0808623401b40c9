import { describeValue } from '@aioloop/core';

export { describeValue };

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
