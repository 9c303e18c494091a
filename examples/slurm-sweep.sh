#!/bin/bash
# Spread a reproduction sweep over a cluster with a Slurm job array: each array task runs one disjoint shard and
# writes its own run store; a final job merges the shards and builds the report.
#
#   sbatch --array=0-7 examples/slurm-sweep.sh            # 8 shards
#   sbatch --dependency=afterok:<array job id> --wrap "overparam runs merge sweep/merged sweep/shard-* && overparam report sweep/merged"
#
#SBATCH --job-name=overparam-sweep
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
#SBATCH --output=sweep/slurm-%A_%a.out
set -euo pipefail
N=${SLURM_ARRAY_TASK_COUNT:?run as a job array: sbatch --array=0-7 $0}
I=${SLURM_ARRAY_TASK_ID:?}
EXPERIMENTS=${EXPERIMENTS:-"kernels.mc-convergence kernels.digits"}
export OVERPARAM_THREADS=${SLURM_CPUS_PER_TASK:-2}
mkdir -p sweep
# Re-submitting the same array resumes: finished runs in a shard's store are skipped.
overparam reproduce $EXPERIMENTS --preset full --seed 0 --shard "$I/$N" --out "sweep/shard-$I" --quiet
