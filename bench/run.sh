#!/usr/bin/env bash
# make bench: our benchmarks and the pinned peers side by side in one run.
#   kernels: overparam vs neural-tangents 0.6.5 (JAX, .venv-peers)
#   train:   overparam vs NumPy 1.26.4, JAX 0.4.25 (.venv-peers) and PyTorch 2.13.0+cpu (.venv-torch, installed on first use)
#   nth:     overparam only (no other tool computes the neural tangent hierarchy)
#   init:    overparam only (Monte-Carlo networks per second and exact linear-region enumeration; no peer computes these)
#   convex:  overparam only (seed 002 at the seed's size: Adam epoch L = 1, 2 and one Algorithm 1 step; 7.2 GB peak;
#            no public code exists for seed 002)
#   meanfield: seed 003 fig. 3's SGD, overparam vs NumPy, JAX (.venv-peers) and PyTorch (.venv-torch): steps/s at
#            m = 1000, and the teacher-student sweep with MF_REPETITIONS (default 2) of its 30 repetitions, the peers'
#            repetitions spread over MF_PROCESSES (default: all cores) processes as ours run on all cores
# Run it on an otherwise idle machine: the loops are short and sensitive to other load.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out/bench
bash bench/peers/setup.sh
bash bench/peers/setup-torch.sh

echo "== overparam bench kernels =="
.build/release/overparam bench kernels --csv | tee out/bench/ours.csv
echo "== neural-tangents 0.6.5 (bench/peers/nt_kernels.py) =="
.venv-peers/bin/python bench/peers/nt_kernels.py --csv | tee out/bench/nt.csv

echo "== overparam bench train =="
.build/release/overparam bench train --csv | tee out/bench/ours-train.csv
for fw in numpy jax; do
  echo "== $fw (bench/peers/train_loops.py) =="
  .venv-peers/bin/python bench/peers/train_loops.py --framework $fw --csv | tee out/bench/$fw.csv
done
echo "== torch (bench/peers/train_loops.py) =="
.venv-torch/bin/python bench/peers/train_loops.py --framework torch --csv | tee out/bench/torch.csv

echo "== overparam bench nth =="
.build/release/overparam bench nth --csv | tee out/bench/ours-nth.csv

echo "== overparam bench init =="
.build/release/overparam bench init --csv | tee out/bench/ours-init.csv

echo "== overparam bench convex =="
.build/release/overparam bench convex --csv | tee out/bench/ours-convex.csv

MF_REPS="${MF_REPETITIONS:-2}"
MF_PROCS="${MF_PROCESSES:-$(nproc)}"
echo "== overparam bench meanfield (sweep: $MF_REPS of 30 repetitions) =="
.build/release/overparam bench meanfield --only sgd-step --csv | tee out/bench/ours-mf-step.csv
.build/release/overparam bench meanfield --only sweep --repetitions "$MF_REPS" --csv | tee out/bench/ours-mf-sweep.csv
for fw in numpy jax torch; do
  py=.venv-peers/bin/python; [ "$fw" = torch ] && py=.venv-torch/bin/python
  echo "== $fw (bench/peers/meanfield_sgd.py; sweep on $MF_PROCS processes) =="
  $py bench/peers/meanfield_sgd.py --framework $fw --only sgd-step --csv | tee out/bench/$fw-mf-step.csv
  $py bench/peers/meanfield_sgd.py --framework $fw --only sweep --repetitions "$MF_REPS" --processes "$MF_PROCS" --csv \
    | tee out/bench/$fw-mf-sweep.csv
done

echo
echo "Kernels (seconds; ours/theirs < 1 means faster):"
python3 bench/compare.py out/bench/ours.csv out/bench/nt.csv --peer-name neural-tangents
echo
echo "Training loops (seconds per SGD step; speedup > 1 means overparam is faster):"
python3 bench/compare.py out/bench/ours-train.csv --peer numpy=out/bench/numpy.csv --peer torch=out/bench/torch.csv \
  --peer jax=out/bench/jax.csv --rate "steps/s"
echo
echo "Mean-field SGD, seed 003 fig. 3 (seconds per step at d = 100, m = 1000, batch 100 fresh, float64; speedup > 1: overparam is faster):"
python3 bench/compare.py out/bench/ours-mf-step.csv --peer numpy=out/bench/numpy-mf-step.csv \
  --peer torch=out/bench/torch-mf-step.csv --peer jax=out/bench/jax-mf-step.csv --rate "steps/s"
echo
echo "Mean-field teacher-student sweep (wall seconds of $MF_REPS of its 30 repetitions, 34 widths x 10^4 steps each; the"
echo "repetitions are independent, so the full sweep takes 30/$MF_REPS times as long for every tool):"
python3 bench/compare.py out/bench/ours-mf-sweep.csv --peer numpy=out/bench/numpy-mf-sweep.csv \
  --peer torch=out/bench/torch-mf-sweep.csv --peer jax=out/bench/jax-mf-sweep.csv
echo
echo "Neural tangent hierarchy (seconds):"
cat out/bench/ours-nth.csv
echo
echo "Random networks at initialization (seconds per step: one network for mc-networks, one enumeration for regions-2d/-1d):"
cat out/bench/ours-init.csv
