import { relative } from 'node:path';
import fc from 'fast-check';

/**
 * How the property-based tests run: a fixed seed, so CI draws the same cases on every run and a failure
 * is never a matter of luck; `FANOUT_PROPERTY_SEED=<n>` draws others (to explore, or to replay the seed
 * a failure printed). Run counts stay small: each property is a few milliseconds per case, and the
 * store's is a few DynamoDB round trips per step.
 */
export const PROPERTY_SEED = seedFromEnvironment(process.env.FANOUT_PROPERTY_SEED);

function seedFromEnvironment(value: string | undefined): number {
  if (value === undefined || value === '') return 20_261_124;
  const seed = Number(value);
  if (!Number.isSafeInteger(seed)) throw new Error(`FANOUT_PROPERTY_SEED must be an integer, got "${value}"`);
  return seed;
}

/**
 * Checks `property` over `numRuns` cases. A failure keeps fast-check's report (the seed, the path of
 * the shrunk case, the counterexample) and adds how to replay it.
 */
export async function checkProperty<T>(property: fc.IRawProperty<T>, numRuns: number): Promise<void> {
  try {
    // The failed expectation goes into the report: jest does not print an error's `cause`.
    await fc.assert(property, { seed: PROPERTY_SEED, numRuns, includeErrorInReport: true });
  } catch (err) {
    if (err instanceof Error) {
      err.message += `\nReplay: FANOUT_PROPERTY_SEED=${PROPERTY_SEED} node_modules/.bin/jest ${relative(process.cwd(), expect.getState().testPath ?? '')}`;
    }
    throw err;
  }
}
