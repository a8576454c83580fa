/** Malformed decoder input; the message names the offending entry, e.g. `beta[3][1][2] is NaN`. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** Checks that `values` is an array of `length` finite numbers; `where` names it in errors. */
export function assertFiniteVector(values: unknown, length: number, where: string): asserts values is number[] {
  if (!Array.isArray(values)) throw new DecodeError(`${where}: expected an array of ${length} numbers`);
  if (values.length !== length) {
    throw new DecodeError(`${where}: expected ${length} numbers, got ${values.length}`);
  }
  values.forEach((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new DecodeError(`${where}[${index}] is ${typeof value === 'number' ? value : typeof value}, expected a finite number`);
    }
  });
}
