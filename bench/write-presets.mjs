// Writes the paper's presets as @adl/trellis builds them (path, genotype, F) to a JSON file, for the
// PyTorch reference, which reads its fixed networks from it: `node bench/write-presets.mjs out.json`.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { PRESETS } = createRequire(import.meta.url)('../packages/trellis/dist/index.cjs');
writeFileSync(process.argv[2], `${JSON.stringify(PRESETS, null, 2)}\n`);
