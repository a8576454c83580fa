#!/usr/bin/env bash
# On the GPU machine, inside the unpacked adl-gpu-bench.tar.xz: the search step (L = 4 at 96², L = 12
# at 321²), the retrain step of autodeeplab-s (769², batch 2) and inference (1024×2048) on
# WebGPU (Dawn over the machine's Vulkan driver) and the PyTorch reference on CUDA, at the same
# configurations; one JSON line each, into results.jsonl, the full output into results.jsonl.log
# (both in $OUT when set). The WebGPU lines carry dispatches, uploads and reads per step; one more
# retrain row times every dispatch on the GPU (per-program table in the log, `gpuMsByProgram`). The reference runs first (seconds on a GPU); each command is stopped
# after LIMIT_S seconds (default 150), so that one slow row cannot take the others' time.
set -uo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/bin:$PATH"
results=${OUT:-.}/results.jsonl
limit=${LIMIT_S:-150}
: > "$results"
# SMOKE=1: the same commands at toy sizes, one run each, to check the bundle on a software adapter.
if [ "${SMOKE:-0}" = 1 ]; then
  searches=("2 32"); retrain=65; inference="64 128"; runs=1
else
  searches=("4 96" "12 321"); retrain=769; inference="1024 2048"; runs=${RUNS:-3}
fi
read -r height width <<<"$inference"
row() { # row DIR COMMAND...: one measurement, its output appended to the log, its JSON line to the results
  local dir=$1; shift
  echo "== $*" >> "$results.log"
  (cd "$dir" && timeout -k 5 "$limit" "$@") 2>&1 | tee -a "$results.log" | grep '^{' >> "$results"
  echo "== exit ${PIPESTATUS[0]}" >> "$results.log"
}
reference() { row . python3 reference/bench.py "$1" --device "${DEVICE:-cuda}" "${@:2}" --runs "$runs"; }
ours() { (export ADL_BACKEND=webgpu; row app node "$@" --runs "$runs"); }
reference retrain-step --preset autodeeplab-s --size "$retrain" --batch 2
reference inference --preset autodeeplab-s --height "$height" --width "$width"
for search in "${searches[@]}"; do
  read -r layers size <<<"$search"
  reference search-step --layers "$layers" --filter 8 --size "$size" --batch 2
done
ours bench/fixed-net.mjs retrain-step --preset autodeeplab-s --size "$retrain" --batch 2
# One more step with every dispatch timed on the GPU (timestamp queries): GPU ms per program, into the log and the JSON line.
(export ADL_BACKEND=webgpu; row app node bench/fixed-net.mjs retrain-step --preset autodeeplab-s --size "$retrain" --batch 2 --gpu-times --probe --runs 1)
ours bench/fixed-net.mjs inference --preset autodeeplab-s --height "$height" --width "$width"
for search in "${searches[@]}"; do
  read -r layers size <<<"$search"
  ours bench/supernet-step.mjs --layers "$layers" --size "$size" --warmup 1
done
cat "$results"
