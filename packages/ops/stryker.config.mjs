import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md).
export default strykerConfig([
  'src/primitives.ts',
  'src/ops-table.ts',
  'src/sep-conv.ts',
  'src/conv-blocks.ts',
  'src/conv2d.ts',
  'src/batch-norm.ts',
  'src/aspp.ts',
  'src/resample.ts',
  'src/resize-bilinear.ts',
  'src/subsample.ts',
  'src/stem.ts',
  'src/simple-layers.ts',
  'src/layer.ts',
  'src/module.ts',
]);
