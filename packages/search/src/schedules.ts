/**
 * Cosine annealing from `max` to `min` over `total` epochs (design §5: 0.025 → 0.001), evaluated at the
 * start of `epoch`, as DARTS steps its scheduler once per epoch.
 */
export function cosineLr(epoch: number, total: number, max: number, min: number): number {
  return min + 0.5 * (max - min) * (1 + Math.cos((Math.PI * epoch) / total));
}

/** Poly schedule of retraining (design §7): `base · (1 − step / total)^power`, power 0.9. */
export function polyLr(step: number, total: number, base: number, power = 0.9): number {
  return base * Math.max(0, 1 - step / total) ** power;
}
