import type { CityscapesSample } from './layout.js';
import { SeededRandom } from './seeded-random.js';

/**
 * The two disjoint halves of the training set for bi-level search (design §5): trainA for the
 * weights, trainB for α/β. Deterministic for a seed, whatever order the samples come in.
 */
export function splitTrainAB<T extends Pick<CityscapesSample, 'city' | 'name'>>(samples: readonly T[], seed = 0): { trainA: T[]; trainB: T[] } {
  const ordered = [...samples].sort((a, b) => (a.city === b.city ? a.name.localeCompare(b.name) : a.city.localeCompare(b.city)));
  const shuffled = new SeededRandom(seed).shuffle(ordered);
  const half = Math.ceil(shuffled.length / 2);
  return { trainA: shuffled.slice(0, half), trainB: shuffled.slice(half) };
}
