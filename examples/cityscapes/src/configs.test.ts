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

  it('retrain.json and eval.json are valid', () => {
    expect(parseRetrainConfig(read('retrain.json'), 'retrain.json')).toMatchObject({ power: 0.9, filterMultiplier: 20 });
    expect(EvalConfigSchema.parse(read('eval.json')).scales).toHaveLength(5);
  });
});
