#!/usr/bin/env bash
# Packs what a GPU machine without Node or network needs to run the benchmarks: this machine's
# Node binary, the built packages with their production dependencies, the WebGPU backend and Dawn
# (npm package `webgpu`), and the PyTorch reference. Output: bench/gpu/out/adl-gpu-bench.tar.xz
# (git-ignored), which `run.sh` unpacks and runs on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/gpu/out
rm -rf "$out" && mkdir -p "$out/stage/bin"
pnpm build >/dev/null
cp "$(node -p process.execPath)" "$out/stage/bin/node"
# The trellis package (benches import its dist) with its production dependencies, plus the optional
# WebGPU pieces, which are peer dependencies and so not deployed by default.
pnpm --filter @adl/trellis deploy --legacy --prod "$out/stage/app" >/dev/null
cp -r packages/trellis/bench "$out/stage/app/bench"
for pkg in webgpu @tensorflow/tfjs-backend-webgpu; do
  mkdir -p "$out/stage/app/node_modules/$(dirname "$pkg")"
  cp -rL "node_modules/.pnpm/node_modules/$pkg" "$out/stage/app/node_modules/$pkg" 2>/dev/null || cp -rL "packages/ops/node_modules/$pkg" "$out/stage/app/node_modules/$pkg"
done
# tfjs is a peer dependency: link the deployed copy (one tfjs-core instance for every package) where
# the bench scripts and the WebGPU backend resolve it.
for pkg in tfjs tfjs-core tfjs-backend-wasm; do
  ln -s "../.pnpm/node_modules/@tensorflow/$pkg" "$out/stage/app/node_modules/@tensorflow/$pkg"
done
cp -r bench/reference bench/gpu/run.sh "$out/stage/"
cp -r python/adl_torch "$out/stage/"
rm -rf "$out/stage/adl_torch/__pycache__"
node bench/write-presets.mjs "$out/stage/presets.json"
# Fit the 64 MiB a device run can carry: Dawn for linux-x64 only, no source maps or browser bundles.
find "$out/stage/app/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
find "$out/stage/app/node_modules" -name '*.map' -delete
find "$out/stage/app/node_modules" -path '*/@tensorflow/*/dist/*' \( -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' \) -delete
tar -C "$out/stage" -cJf "$out/adl-gpu-bench.tar.xz" .
rm -rf "$out/stage"
ls -l "$out/adl-gpu-bench.tar.xz"
