/**
 * Natural-log softmax over the entries whose `valid` flag is set; invalid entries get −∞.
 * Shifted by the maximum for stability.
 */
export function logSoftmax(logits: readonly number[], valid: readonly boolean[] = logits.map(() => true)): number[] {
  let max = -Infinity;
  logits.forEach((value, i) => {
    if (valid[i] && value > max) max = value;
  });
  let sum = 0;
  logits.forEach((value, i) => {
    if (valid[i]) sum += Math.exp(value - max);
  });
  const logSum = max + Math.log(sum);
  return logits.map((value, i) => (valid[i] ? value - logSum : -Infinity));
}

export function softmax(logits: readonly number[]): number[] {
  return logSoftmax(logits).map(Math.exp);
}
