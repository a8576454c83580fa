#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying and testing the Slurm examples:
#   scripts/slurm-cluster.sh start DIR   boots munged, slurmctld and slurmd with everything under DIR
#                                        (config, keys, state, spool, logs) and waits until the node
#                                        is idle; then `export SLURM_CONF=DIR/slurm.conf` and use
#                                        sbatch, squeue, scontrol as on any cluster
#   scripts/slurm-cluster.sh stop DIR    stops them all (nothing is left running)
# Needs root and Debian's slurm-wlm and munge (scripts/setup.sh installs them). The daemons run in a
# PID namespace of their own (unshare), so that stopping its first process ends every daemon and job.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
dir=$(realpath -m "$2")

case $action in
start)
  for tool in munged slurmctld slurmd sinfo unshare; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool is not installed (scripts/setup.sh installs slurm-wlm and munge)" >&2; exit 1; }
  done
  [ "$(id -u)" = 0 ] || { echo "$0: the daemons need root" >&2; exit 1; }
  [ -e "$dir/namespace.pid" ] && { echo "$0: $dir holds a running cluster (stop it first)" >&2; exit 1; }
  mkdir -p "$dir/state" "$dir/spool"
  head -c 1024 /dev/urandom >"$dir/munge.key"
  chmod 400 "$dir/munge.key"
  host=$(hostname -s)
  # Free ports for this cluster's controller and node daemon.
  read -r ctld_port slurmd_port < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
  cat >"$dir/slurm.conf" <<EOF
ClusterName=adl
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CryptoType=crypto/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  # The namespace's first process starts the daemons in the foreground and waits for them.
  unshare --pid --fork --kill-child --mount-proc bash -c "
    munged --foreground --force --socket='$dir/munge.socket' --key-file='$dir/munge.key' --pid-file='$dir/munged.pid' --log-file='$dir/munged.log' --seed-file='$dir/munged.seed' &
    for _ in \$(seq 100); do [ -S '$dir/munge.socket' ] && break; sleep 0.05; done
    SLURM_CONF='$dir/slurm.conf' slurmctld -D -i &
    SLURM_CONF='$dir/slurm.conf' slurmd -D &
    wait
  " >"$dir/daemons.log" 2>&1 &
  echo $! >"$dir/namespace.pid"
  for _ in $(seq 200); do
    state=$(SLURM_CONF="$dir/slurm.conf" sinfo -h -o %t 2>/dev/null || true)
    [ "$state" = idle ] && { echo "slurm: one node ($host, $(nproc) CPUs) idle; export SLURM_CONF=$dir/slurm.conf"; exit 0; }
    sleep 0.1
  done
  echo "$0: the node did not become idle in 20 s; see $dir/*.log" >&2
  "$0" stop "$dir"
  exit 1
  ;;
stop)
  [ -e "$dir/namespace.pid" ] || { echo "$0: no cluster running in $dir" >&2; exit 1; }
  pid=$(cat "$dir/namespace.pid")
  # Killing the namespace's first process (init there) ends every process in it.
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/namespace.pid"
  echo "slurm: stopped"
  ;;
*) usage ;;
esac
