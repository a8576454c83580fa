import { FixedNet, type FixedNetOptions } from './fixed-net.js';

/**
 * The parameters of an architecture's retrain network, without building it at its width: they are a
 * quadratic in F (cell convolutions grow with F², the ASPP's input and the BNs with F), so three small
 * builds (F = 2, 4, 6) fix them. What a width beyond memory is refused by, before anything is built.
 */
export function fixedNetParameterCount(options: FixedNetOptions): number {
  const at = (filterMultiplier: number) => {
    const net = new FixedNet({ ...options, architecture: { ...options.architecture, filterMultiplier } });
    const params = net.trainableVariables().reduce((sum, v) => sum + v.size, 0);
    net.dispose();
    return params;
  };
  const [p2, p4, p6] = [at(2), at(4), at(6)];
  // Through (2, p2), (4, p4), (6, p6): the second difference over 2·2², the first less the quadratic part.
  const a = (p6 - 2 * p4 + p2) / 8;
  const b = (p4 - p2) / 2 - 6 * a;
  const c = p2 - 4 * a - 2 * b;
  const f = options.architecture.filterMultiplier;
  return a * f * f + b * f + c;
}
