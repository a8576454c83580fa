/** PyTorch's updates in float64, the reference for every backend. */
export function referenceSgd(w: number[], gradients: number[][], lr: number, mu: number, wd: number): number[] {
  const v = w.map(() => 0);
  for (const g of gradients) {
    w.forEach((x, i) => {
      v[i] = mu * v[i] + g[i] + wd * x;
      w[i] = x - lr * v[i];
    });
  }
  return w;
}

export function referenceAdam(w: number[], gradients: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const [m, v] = [w.map(() => 0), w.map(() => 0)];
  gradients.forEach((g, t) => {
    w.forEach((x, i) => {
      const grad = g[i] + wd * x;
      m[i] = b1 * m[i] + (1 - b1) * grad;
      v[i] = b2 * v[i] + (1 - b2) * grad * grad;
      w[i] = x - (lr * (m[i] / (1 - b1 ** (t + 1)))) / (Math.sqrt(v[i] / (1 - b2 ** (t + 1))) + eps);
    });
  });
  return w;
}

export const start = [0.5, -1, 2];
/** Three steps' gradients of a 3-element variable starting at `start`. */
export const gradients = [
  [0.1, -0.2, 0.3],
  [-0.05, 0.4, 0.1],
  [0.2, 0.2, -0.3],
];
