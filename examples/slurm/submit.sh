#!/usr/bin/env bash
# Submits a reproduce:* table as N array tasks sharing one store, then the gather job.
#
#   examples/slurm/submit.sh N TABLE STORE [reproduce flags...]
#   examples/slurm/submit.sh 4 table1 /shared/mgd3-store --scale paper --quick
#
# Prints "<array job id> <gather job id>". Extra sbatch options (partition, account, time,
# GPUs) go in SBATCH_* environment variables (e.g. SBATCH_PARTITION=gpu, SBATCH_TIMELIMIT=24:00:00)
# or in MGD3_SBATCH (word list added to both sbatch calls).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 N TABLE STORE [reproduce flags...]" >&2
  exit 2
fi
n=$1 table=$2 store=$3
shift 3
here="$(cd "$(dirname "$0")" && pwd)"
export MGD3_TABLE="$table" MGD3_STORE="$store" MGD3_ARGS="$*"
export MGD3_REPO="${MGD3_REPO:-$(cd "$here/../.." && pwd)}"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${MGD3_SBATCH:-} --array="0-$((n - 1))" "$here/reproduce_array.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
gather=$(sbatch --parsable ${MGD3_SBATCH:-} --dependency="afterok:$array" "$here/gather.sbatch")
echo "${array} ${gather%%;*}"
