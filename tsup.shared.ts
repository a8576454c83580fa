import { readFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/**
 * The build every package shares: ESM + CJS + .d.ts for Node 20. tsup leaves `dependencies` and
 * `peerDependencies` external but would bundle `optionalDependencies` (`@adl/onednn` in
 * @adl/search): a bundled copy cannot find its addon, so those stay external too.
 */
export function packageConfig(entry: string[], options: Options = {}) {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { optionalDependencies?: Record<string, string> };
  const external = Object.keys(manifest.optionalDependencies ?? {});
  return defineConfig({ entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'node20', external, ...options });
}
