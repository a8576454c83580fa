/**
 * Natural-log softmax over the entries whose `valid` flag is set; invalid entries get −∞.
 * Shifted by the maximum for stability.
 */
export function logSoftmax(logits: readonly number[], valid: readonly boolean[] = logits.map(() => true)): number[] {
  const max = Math.max(...logits.filter((_, i) => valid[i]));
  const logSum = max + Math.log(logits.reduce((sum, value, i) => (valid[i] ? sum + Math.exp(value - max) : sum), 0));
  return logits.map((value, i) => (valid[i] ? value - logSum : -Infinity));
}

export function softmax(logits: readonly number[]): number[] {
  return logSoftmax(logits).map(Math.exp);
}
