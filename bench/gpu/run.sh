#!/usr/bin/env bash
# On the GPU machine, inside the unpacked adl-gpu-bench.tar.xz: the search step (L = 4 at 96², L = 12
# at 321²), the retrain step of autodeeplab-s (769², batch 2) and inference (1024×2048) on
# WebGPU (Dawn over the machine's Vulkan driver) and the PyTorch reference on CUDA, at the same
# configurations; one JSON line each, into results.jsonl (and $OUT when set).
set -uo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/bin:$PATH"
results=${OUT:-.}/results.jsonl
: > "$results"
# SMOKE=1: the same commands at toy sizes, one run each, to check the bundle on a software adapter.
if [ "${SMOKE:-0}" = 1 ]; then
  searches=("2 32"); retrain=65; inference="64 128"; runs=1
else
  searches=("4 96" "12 321"); retrain=769; inference="1024 2048"; runs=3
fi
for search in "${searches[@]}"; do
  read -r layers size <<<"$search"
  (cd app && ADL_BACKEND=webgpu node bench/supernet-step.mjs --layers "$layers" --size "$size" --warmup 1 --runs "$runs") 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
  python3 reference/bench.py search-step --device "${DEVICE:-cuda}" --layers "$layers" --filter 8 --size "$size" --batch 2 --runs "$runs" 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
done
(cd app && ADL_BACKEND=webgpu node bench/fixed-net.mjs retrain-step --preset autodeeplab-s --size "$retrain" --batch 2 --runs "$runs") 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
python3 reference/bench.py retrain-step --device "${DEVICE:-cuda}" --preset autodeeplab-s --size "$retrain" --batch 2 --runs "$runs" 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
read -r height width <<<"$inference"
(cd app && ADL_BACKEND=webgpu node bench/fixed-net.mjs inference --preset autodeeplab-s --height "$height" --width "$width" --runs "$runs") 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
python3 reference/bench.py inference --device "${DEVICE:-cuda}" --preset autodeeplab-s --height "$height" --width "$width" --runs "$runs" 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
cat "$results"
