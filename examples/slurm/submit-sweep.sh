#!/bin/bash
# A seed sweep of one search config: SEEDS array tasks, seed i into $OUT/seed-i, resumable.
#   CONFIG=search.json OUT=runs/sweep SEEDS=3 ./submit-sweep.sh     (COMMAND=retrain for a retrain config)
# Prints the job id; when it is done: adl compare $OUT/seed-*
set -euo pipefail
HERE=$(realpath "$(dirname "$0")")
: "${CONFIG:?}" "${OUT:?}"
export HERE CONFIG OUT
mkdir -p "$OUT"
sbatch --parsable --export=ALL --array="0-$((${SEEDS:-3} - 1))" --output="$OUT/slurm-seed-%a.out" --open-mode=append "$HERE/seed-sweep.sbatch"
