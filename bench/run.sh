#!/usr/bin/env bash
# make bench: our benchmarks and the pinned peers side by side in one run.
#   kernels: overparam vs neural-tangents 0.6.5 (JAX, .venv-peers)
#   train:   overparam vs NumPy 1.26.4, JAX 0.4.25 (.venv-peers) and PyTorch 2.13.0+cpu (.venv-torch, installed on first use)
#   nth:     overparam only (no other tool computes the neural tangent hierarchy)
#   init:    overparam only (Monte-Carlo networks per second and exact linear-region enumeration; no peer computes these)
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

echo
echo "Kernels (seconds; ours/theirs < 1 means faster):"
python3 bench/compare.py out/bench/ours.csv out/bench/nt.csv --peer-name neural-tangents
echo
echo "Training loops (seconds per SGD step; speedup > 1 means overparam is faster):"
python3 bench/compare.py out/bench/ours-train.csv --peer numpy=out/bench/numpy.csv --peer torch=out/bench/torch.csv \
  --peer jax=out/bench/jax.csv --rate "steps/s"
echo
echo "Neural tangent hierarchy (seconds):"
cat out/bench/ours-nth.csv
echo
echo "Random networks at initialization (seconds per step: one network for mc-networks, one enumeration for regions-2d/-1d):"
cat out/bench/ours-init.csv
