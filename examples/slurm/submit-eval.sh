#!/bin/bash
# Sharded evaluation: N shards as a job array, then their merge once all of them succeeded.
#   CHECKPOINT=runs/retrain/best DATA=/data/cityscapes OUT=runs/eval SHARDS=3 ./submit-eval.sh
# Prints the two job ids. EVAL_FLAGS passes more flags to adl eval (e.g. "--scales 0.75,1,1.25 --flip").
set -euo pipefail
here=$(realpath "$(dirname "$0")")
: "${CHECKPOINT:?}" "${DATA:?}" "${OUT:?}"
export CHECKPOINT DATA OUT
mkdir -p "$OUT"
shards=${SHARDS:-3}
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" --output="$OUT/slurm-eval-%a.out" "$here/eval-shard.sbatch")
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" --output="$OUT/slurm-merge.out" "$here/merge.sbatch")
echo "$array $merge"
