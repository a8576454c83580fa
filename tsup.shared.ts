import { defineConfig, type Options } from 'tsup';

/** The build every package shares: ESM + CJS + .d.ts for Node 20. */
export function packageConfig(entry: string[], options: Options = {}) {
  return defineConfig({ entry, format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'node20', ...options });
}
