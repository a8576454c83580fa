import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md).
export default strykerConfig([
  'src/supernet.ts',
  'src/fixed-net.ts',
  'src/decoder.ts',
  'src/levels.ts',
  'src/architecture.ts',
  'src/presets.ts',
]);
