#!/usr/bin/env bash
# make bench: our kernel benchmarks and neural-tangents' (pinned, own venv) side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out/bench
echo "== overparam bench kernels =="
.build/release/overparam bench kernels --csv | tee out/bench/ours.csv
echo "== neural-tangents 0.6.5 (bench/peers/nt_kernels.py) =="
bash bench/peers/setup.sh
.venv-peers/bin/python bench/peers/nt_kernels.py --csv | tee out/bench/nt.csv
echo
python3 bench/compare.py out/bench/ours.csv out/bench/nt.csv --peer-name neural-tangents
