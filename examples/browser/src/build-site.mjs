// Builds the static site into site/: the page (public/), ONNX Runtime Web's wasm build (vendor/), and
// classes.json (the Cityscapes train-id names and colours, from @adl/data-cityscapes).
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAIN_CLASS_NAMES, TRAIN_ID_PALETTE } from '@adl/data-cityscapes';

/** The runtime files the page loads: the wasm-only ES module build and its one-thread wasm. */
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

export const SITE_DIR = fileURLToPath(new URL('../site/', import.meta.url));

export function buildSite(siteDir = SITE_DIR) {
  const require = createRequire(import.meta.url);
  // The package exports no ./package.json; its CommonJS entry lies in dist/.
  const ortDist = dirname(require.resolve('onnxruntime-web'));
  rmSync(siteDir, { recursive: true, force: true });
  cpSync(fileURLToPath(new URL('../public/', import.meta.url)), siteDir, { recursive: true });
  mkdirSync(join(siteDir, 'vendor'), { recursive: true });
  for (const file of ORT_FILES) cpSync(join(ortDist, file), join(siteDir, 'vendor', file));
  writeFileSync(join(siteDir, 'classes.json'), `${JSON.stringify({ names: TRAIN_CLASS_NAMES, palette: TRAIN_ID_PALETTE })}\n`);
  return siteDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`site built in ${buildSite()}`);
