/**
 * Settings shared by the property and model tests (not a test file itself).
 * CI runs a bounded number of cases; a long run raises them:
 *   AIOLOOP_PROPERTY_RUNS=2000 AIOLOOP_HEAP_OPS=1000000 npx vitest run test/*.property.test.ts
 * fast-check prints the seed and the shrunk counterexample on failure; replay one
 * with AIOLOOP_PROPERTY_SEED=<seed> (and AIOLOOP_PROPERTY_PATH=<path> if printed).
 */
import type { Parameters } from 'fast-check';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** fast-check parameters: `runs` cases (AIOLOOP_PROPERTY_RUNS scales it), seed and path from the environment. */
export function propertyParameters<T>(runs: number): Parameters<T> {
  const seed = process.env.AIOLOOP_PROPERTY_SEED;
  const path = process.env.AIOLOOP_PROPERTY_PATH;
  return {
    numRuns: envInt('AIOLOOP_PROPERTY_RUNS', runs),
    ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
    ...(path !== undefined && path !== '' ? { path } : {}),
    verbose: 1,
  };
}

/** How many random timer operations the heap test performs (1e6 in a long run). */
export const heapOperations = envInt('AIOLOOP_HEAP_OPS', 20_000);

/** Whether this is a long run (more cases, so larger time limits). */
export const longRun = process.env.AIOLOOP_PROPERTY_RUNS !== undefined || process.env.AIOLOOP_HEAP_OPS !== undefined;
