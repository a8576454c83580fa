import { join } from 'node:path';
import { PYTORCH_BATCH_NORM, type BatchNormSettings } from '@adl/ops';
import { FixedNet, parseArchitecture, type Architecture } from '@adl/trellis';
import { CHECKPOINT_MANIFEST, CheckpointError, readCheckpointManifest, restoreCheckpoint } from './checkpoint.js';

/** How a retrained FixedNet was built: stored in its checkpoints so that it can be rebuilt. */
export interface TrainedNetSpec {
  readonly architecture: Architecture;
  readonly numClasses: number;
  readonly asppChannels: number;
  readonly asppRates?: readonly [number, number, number];
  /** Absent in checkpoints written before it was stored: those nets were trained with PyTorch's BN settings. */
  readonly batchNorm?: BatchNormSettings;
}

/**
 * Rebuilds the FixedNet of a retraining checkpoint (`outDir` or `outDir/best`) and loads its weights
 * and BN statistics.
 */
export async function loadTrainedNet(dir: string): Promise<{ net: FixedNet; spec: TrainedNetSpec }> {
  const manifest = await readCheckpointManifest<{ net?: TrainedNetSpec }>(dir);
  const where = join(dir, CHECKPOINT_MANIFEST);
  if (!manifest) throw new CheckpointError(`${where}: no checkpoint here (expected a retraining output folder or its best/)`);
  const spec = manifest.meta?.net;
  if (!spec) throw new CheckpointError(`${where}: not a retraining checkpoint (meta.net is missing)`);
  const architecture = parseArchitecture(spec.architecture, `${where} meta.net.architecture`);
  const net = new FixedNet({ architecture, numClasses: spec.numClasses, asppChannels: spec.asppChannels, asppRates: spec.asppRates ? [...spec.asppRates] : undefined, batchNorm: spec.batchNorm ?? PYTORCH_BATCH_NORM, seed: 0 });
  try {
    await restoreCheckpoint(dir, { weights: net.trainableVariables(), batchNorm: net.stateVariables() });
  } catch (error) {
    net.dispose();
    throw error;
  }
  return { net, spec: { ...spec, architecture } };
}
