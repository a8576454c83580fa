#!/bin/bash
# Runs a resumable adl command (search or retrain with --resume) as a Slurm batch job's shell
# (`exec resumable.sh adl …` in the batch script): SIGTERM or USR1 from Slurm (--signal=B:USR1@300
# before the time limit, scancel --signal) is passed on to adl, which ends its step, checkpoints and
# exits 75; the job is then requeued and continues from that checkpoint.
set -uo pipefail
"$@" &
pid=$!
trap 'kill -USR1 $pid 2>/dev/null' USR1
trap 'kill -TERM $pid 2>/dev/null' TERM
status=0
wait $pid || status=$?
# A trapped signal ends `wait` early: wait again until adl itself has exited.
while kill -0 $pid 2>/dev/null; do
  status=0
  wait $pid || status=$?
done
if [ "$status" -eq 75 ]; then
  job=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}
  echo "[adl] interrupted with a checkpoint: requeueing ${job:-$SLURM_JOB_ID}"
  scontrol requeue "${job:-$SLURM_JOB_ID}"
  exit 0
fi
exit "$status"
