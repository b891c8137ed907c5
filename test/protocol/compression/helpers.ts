// Test helpers shared by the compression and records tests.

/** Runs fn and returns what it threw; fails the test if it did not throw. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
