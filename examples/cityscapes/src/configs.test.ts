import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvalConfigSchema } from '@adl/cli';
import { parseRetrainConfig, parseSearchConfig } from '@adl/search';
import { describe, expect, it } from 'vitest';

const read = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', name), 'utf8'));

describe('examples/cityscapes configs', () => {
  it('search.json is valid and holds the paper settings (design §5)', () => {
    const config = parseSearchConfig(read('search.json'), 'search.json');
    expect(config).toMatchObject({ epochs: 40, warmupEpochs: 20, batchSize: 2, crop: 321, layers: 12, blocks: 5, filterMultiplier: 8 });
    expect(config.weights).toEqual({ lrMax: 0.025, lrMin: 0.001, momentum: 0.9, weightDecay: 3e-4 });
    expect(config.architecture).toMatchObject({ lr: 3e-3, weightDecay: 1e-3 });
  });

  // Auto-DeepLab Table 3 (Auto-DeepLab-S, Cityscapes val mIoU): the four retraining rows.
  it.each([
    ['retrain-500k.json', 500_000, 1, 75.2],
    ['retrain-1m.json', 1_000_000, 1, 77.09],
    ['retrain-1.5m.json', 1_500_000, 1, 78.0],
    ['retrain-1.5m-drop-path.json', 1_500_000, 0.7, 79.74],
  ])('ablation/%s: %i iterations, drop path keep %s (the paper: %s mIoU)', (file, iterations, dropPathKeepProb) => {
    const config = parseRetrainConfig(read(join('ablation', file)), file);
    expect(config).toMatchObject({ architecture: 'autodeeplab-s', iterations, dropPathKeepProb, crop: 769, batchSize: 14, lr: 0.05, power: 0.9 });
    expect(config).toMatchObject({ weightDecay: 4e-5, batchNormDecay: 0.9997, batchNormEpsilon: 1e-3 });
    expect(config.outDir).toBe(`runs/ablation-${file.slice('retrain-'.length, -'.json'.length)}`);
  });

  it('retrain.json and eval.json are valid', () => {
    expect(parseRetrainConfig(read('retrain.json'), 'retrain.json')).toMatchObject({ power: 0.9, filterMultiplier: 20 });
    expect(EvalConfigSchema.parse(read('eval.json')).scales).toHaveLength(5);
  });
});
