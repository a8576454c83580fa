#!/usr/bin/env bash
# On the GPU machine, inside the unpacked adl-gpu-bench.tar.xz: the search step and inference on
# WebGPU (Dawn over the machine's Vulkan driver) and the PyTorch reference on CUDA, at the same
# configurations; one JSON line each, into results.jsonl (and $OUT when set).
set -uo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/bin:$PATH"
results=${OUT:-.}/results.jsonl
: > "$results"
sizes=${SIZES:-"96 321"}
for size in $sizes; do
  layers=$([ "$size" = 96 ] && echo 4 || echo 12)
  (cd app && ADL_BACKEND=webgpu node bench/supernet-step.mjs --layers "$layers" --size "$size" --warmup 1 --runs 3) 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
  python3 reference/bench.py search-step --device "${DEVICE:-cuda}" --layers "$layers" --filter 8 --size "$size" --batch 2 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
done
(cd app && ADL_BACKEND=webgpu node bench/fixed-net.mjs inference --preset autodeeplab-s --height 1024 --width 2048) 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
python3 reference/bench.py inference --device "${DEVICE:-cuda}" --preset autodeeplab-s --height 1024 --width 2048 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
cat "$results"
