import * as tf from '@tensorflow/tfjs';
import { kernelsFor } from '@adl/backend';
import { BatchLoader, DEFAULT_AUGMENT, listSplit, splitTrainAB } from '@adl/data-cityscapes';
import { crossEntropyIgnoring } from '@adl/ops';
import { SuperNet } from '@adl/trellis';
import { batchTensors } from './batch-tensors.js';
import { restoreCheckpoint } from './checkpoint.js';
import type { AlphaBeta } from './read-alpha-beta.js';
import type { SearchConfig } from './search-config.js';
import { superNetOptionsOf } from './search.js';

/** The trainB loss of a finished search's final weights under four α/β: which of α and β lowered it. */
export interface ArchitectureLosses {
  /** Under the α and β the search started from. */
  readonly start: number;
  /** Under the α and β it found. */
  readonly found: number;
  /** The found α with the starting β. */
  readonly alphaOnly: number;
  /** The starting α with the found β. */
  readonly betaOnly: number;
}

/**
 * What the α and β a search found (`found`, e.g. its result) do to the trainB loss at the weights of its
 * last checkpoint (`config.outDir`): every trainB image in one batch, a `config.crop` crop at scale 1,
 * unflipped, BN in training mode as in the architecture steps. The starting α and β are rebuilt from
 * the config's seed. Uses the current tfjs backend.
 */
export async function architectureLosses(config: SearchConfig, found: AlphaBeta): Promise<ArchitectureLosses> {
  const net = new SuperNet(superNetOptionsOf(config));
  try {
    const start = { alpha: net.alpha.arraySync(), beta: net.beta.arraySync() };
    await restoreCheckpoint(config.outDir, { weights: net.weightVariables(), batchNorm: net.stateVariables() });
    const { trainB } = splitTrainAB(await listSplit(config.dataRoot, 'train'), config.seed);
    const augment = { ...DEFAULT_AUGMENT, crop: [config.crop, config.crop] as const, scale: [1, 1] as const, flip: 0 };
    const loader = new BatchLoader({ batchSize: trainB.length, augment, prefetch: 0, onBadFile: 'stop', samples: trainB, seed: config.seed });
    const { images, labels } = batchTensors(await loader.load({ epoch: 0, batch: 0 }));
    const ctx = { training: true, kernels: kernelsFor(tf.getBackend()) };
    const lossUnder = async ({ alpha, beta }: AlphaBeta) => {
      tf.tidy(() => {
        net.alpha.assign(tf.tensor2d(alpha));
        net.beta.assign(tf.tensor3d(beta));
      });
      const loss = tf.tidy(() => crossEntropyIgnoring(net.apply(images, ctx), labels));
      const [value] = await loss.data();
      loss.dispose();
      return value;
    };
    try {
      return {
        start: await lossUnder(start),
        found: await lossUnder(found),
        alphaOnly: await lossUnder({ alpha: found.alpha, beta: start.beta }),
        betaOnly: await lossUnder({ alpha: start.alpha, beta: found.beta }),
      };
    } finally {
      tf.dispose([images, labels]);
    }
  } finally {
    net.dispose();
  }
}
