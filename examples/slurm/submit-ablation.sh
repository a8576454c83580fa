#!/bin/bash
# The retraining ablation: one array task per config in $CONFIGS (each config's outDir holds its run).
#   CONFIGS=examples/cityscapes/ablation LOGS=runs/ablation ./submit-ablation.sh
# Prints the job id; when it is done: adl compare <the configs' outDirs>
set -euo pipefail
HERE=$(realpath "$(dirname "$0")")
: "${CONFIGS:?}" "${LOGS:?folder for the job logs}"
export HERE CONFIGS
configs=("$CONFIGS"/*.json)
mkdir -p "$LOGS"
sbatch --parsable --export=ALL --array="0-$((${#configs[@]} - 1))" --output="$LOGS/slurm-ablation-%a.out" --open-mode=append "$HERE/ablation.sbatch"
