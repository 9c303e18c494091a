#!/usr/bin/env bash
# End-to-end checks of the overparam CLI as a user runs it: bad input gives one clear line and a non-zero exit
# with no output file; a sweep killed with SIGKILL resumes to exactly the results of an uninterrupted sweep;
# three shards run as parallel processes merge into the same runs and results; the report renders in Chromium.
# Prints 'N passed, M failed' and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/overparam}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }

# expect_error NAME PATTERN OUTFILE -- command...: non-zero exit, exactly one stderr line matching PATTERN, no OUTFILE.
expect_error() {
  local name=$1 pattern=$2 out=$3; shift 4
  "$@" >"$T/stdout" 2>"$T/stderr"; local rc=$?
  local lines; lines=$(wc -l < "$T/stderr")
  if [ $rc -eq 0 ]; then bad "$name: exit status 0"; return; fi
  if [ "$lines" -ne 1 ]; then bad "$name: $lines stderr lines: $(cat "$T/stderr")"; return; fi
  if ! grep -qiE -- "$pattern" "$T/stderr"; then bad "$name: message '$(cat "$T/stderr")' lacks /$pattern/"; return; fi
  if [ -n "$out" ] && [ -e "$out" ]; then bad "$name: wrote $out"; return; fi
  ok
}

python3 - "$T" <<'PY'
import sys, struct
import array
d = sys.argv[1]
def npy(path, rows, dtype='<f8'):
    r, c = len(rows), len(rows[0])
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (dtype, r, c)
    header += ' ' * (63 - (10 + len(header)) % 64) + '\n'
    fmt = 'd' if dtype == '<f8' else 'i'
    data = array.array(fmt, [v for row in rows for v in row]).tobytes()
    open(path, 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode() + data)
npy(d + '/x.npy', [[0.1, 0.2, 0.3], [1.0, -0.5, 0.2], [0.3, 0.3, -1.0], [2.0, 0.1, 0.0]])
npy(d + '/z.npy', [[0.5, 0.5, 0.5], [-1.0, 0.0, 1.0]])
npy(d + '/y.npy', [[1.0], [-1.0], [0.5], [0.0]])
npy(d + '/nan.npy', [[0.1, float('nan'), 0.3]])
npy(d + '/d2.npy', [[0.1, 0.2], [0.3, 0.4]])
npy(d + '/dup.npy', [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]])
npy(d + '/ydup.npy', [[1.0], [2.0]])
open(d + '/text.npy', 'w').write('not an npy file\n')
PY

# --- Happy paths.
if $BIN kernel --x "$T/x.npy" --x2 "$T/z.npy" --depth 2 --nngp-out "$T/K.npy" --ntk-out "$T/Th.npy" >/dev/null && [ -s "$T/K.npy" ] && [ -s "$T/Th.npy" ]; then ok; else bad "kernel writes NNGP and NTK"; fi
if $BIN kernel --empirical --width 64 --seed 3 --x "$T/x.npy" --depth 2 --ntk-out "$T/E.npy" >/dev/null && [ -s "$T/E.npy" ]; then ok; else bad "empirical kernel"; fi
if $BIN predict --x-train "$T/x.npy" --y-train "$T/y.npy" --x-test "$T/z.npy" --time 10 --learning-rate 1 --mean-out "$T/M.npy" --cov-out "$T/C.npy" >/dev/null && [ -s "$T/M.npy" ] && [ -s "$T/C.npy" ]; then ok; else bad "predict writes mean and covariance"; fi

if $BIN train --data "$T/x.npy" --targets "$T/y.npy" --depth 1 --width 16 --activation tanh --optimizer adam --learning-rate 0.01 --steps 20 --log "$T/train.csv" >/dev/null && [ "$(wc -l < "$T/train.csv")" -ge 3 ]; then ok; else bad "train writes its log"; fi

# --- Bad input: one clear line, non-zero exit, no output file.
expect_error "unknown optimizer" "optimizer" "$T/t1.csv" -- $BIN train --data "$T/x.npy" --targets "$T/y.npy" --optimizer nesterov2 --log "$T/t1.csv"
expect_error "diverging training" "diverged.*learning-rate" "$T/t2.csv" -- $BIN train --data "$T/x.npy" --targets "$T/y.npy" --depth 1 --width 16 --learning-rate 1e9 --steps 50 --log "$T/t2.csv"
expect_error "targets rows" "targets" "$T/t3.csv" -- $BIN train --data "$T/x.npy" --targets "$T/ydup.npy" --log "$T/t3.csv"
expect_error "missing file" "no such file|not found|does not exist" "$T/o1.npy" -- $BIN kernel --x "$T/missing.npy" --nngp-out "$T/o1.npy"
expect_error "not an npy" "npy|magic|format" "$T/o2.npy" -- $BIN kernel --x "$T/text.npy" --nngp-out "$T/o2.npy"
expect_error "NaN input" "NaN" "$T/o3.npy" -- $BIN kernel --x "$T/nan.npy" --nngp-out "$T/o3.npy"
expect_error "unknown activation" "unknown activation" "$T/o4.npy" -- $BIN kernel --x "$T/x.npy" --activation swish2 --nngp-out "$T/o4.npy"
expect_error "depth 0" "depth" "$T/o5.npy" -- $BIN kernel --x "$T/x.npy" --depth 0 --nngp-out "$T/o5.npy"
expect_error "negative variance" "weight-variance" "$T/o6.npy" -- $BIN kernel --x "$T/x.npy" --weight-variance -1 --nngp-out "$T/o6.npy"
expect_error "shape mismatch" "x2|columns" "$T/o7.npy" -- $BIN kernel --x "$T/x.npy" --x2 "$T/d2.npy" --nngp-out "$T/o7.npy"
expect_error "singular system" "singular|diag-reg" "$T/o8.npy" -- $BIN predict --x-train "$T/dup.npy" --y-train "$T/ydup.npy" --x-test "$T/z.npy" --time inf --mean-out "$T/o8.npy"
expect_error "unknown flag" "unknown|unexpected" "" -- $BIN kernel --x "$T/x.npy" --bogus 1
expect_error "unwritable output" "exist|writable|directory|create" "" -- $BIN kernel --x "$T/x.npy" --nngp-out "$T/no/such/dir/K.npy"
expect_error "unknown experiment" "unknown experiment" "" -- $BIN reproduce no.such-experiment --out "$T/r0"
printf '[kernels.mc-convergence\nwidths = [8\n' > "$T/broken.toml"
expect_error "malformed config" "broken.toml" "" -- $BIN reproduce kernels.mc-convergence --config "$T/broken.toml" --out "$T/r1"
printf '[kernels.mc-convergence]\nwidthz = [8]\n' > "$T/unknown.toml"
expect_error "unknown config key" "widthz" "" -- $BIN reproduce kernels.mc-convergence --config "$T/unknown.toml" --out "$T/r2"
touch "$T/afile"
expect_error "output folder is a file" "afile" "" -- $BIN reproduce kernels.gallery --out "$T/afile"

# --- Kill -9 mid-sweep, resume, compare with an uninterrupted sweep.
cat > "$T/sweep.toml" <<'TOML'
[kernels.mc-convergence]
widths = [8, 16, 32, 64]
networks = 6400
batches = 8
TOML
export_runs() { $BIN runs export "$1" | python3 -c '
import sys, csv
rows = list(csv.reader(sys.stdin)); h = rows[0]
keep = [i for i, n in enumerate(h) if n not in ("id", "seconds")]
print("\n".join(sorted(",".join(r[i] for i in keep) for r in rows[1:])))'; }
$BIN reproduce kernels.mc-convergence --config "$T/sweep.toml" --out "$T/full" --quiet >/dev/null 2>&1 || bad "uninterrupted sweep"
$BIN reproduce kernels.mc-convergence --config "$T/sweep.toml" --out "$T/killed" --quiet >/dev/null 2>&1 &
pid=$!
# Kill as soon as some but not all runs are finished.
for _ in $(seq 1 200); do
  done_runs=$($BIN runs list "$T/killed" 2>/dev/null | tail -1 | sed -n 's/.*, \([0-9]*\) finished/\1/p')
  if [ -n "$done_runs" ] && [ "$done_runs" -ge 3 ]; then break; fi
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
before=$($BIN runs list "$T/killed" 2>/dev/null | tail -1)
$BIN reproduce kernels.mc-convergence --config "$T/sweep.toml" --out "$T/killed" --quiet >/dev/null 2>&1 || bad "resumed sweep"
if [ "$(export_runs "$T/full")" = "$(export_runs "$T/killed")" ] && [ "$(export_runs "$T/full" | wc -l)" -eq 32 ]; then ok; else bad "killed+resumed sweep differs from the uninterrupted one ($before)"; fi
echo "kill -9 test: before resume: $before"

# --- Three shards as parallel processes, merged, equal the unsharded sweep; merging again adds nothing.
for i in 0 1 2; do $BIN reproduce kernels.mc-convergence --config "$T/sweep.toml" --shard $i/3 --out "$T/shard$i" --quiet >/dev/null 2>&1 & done
wait
$BIN runs merge "$T/merged" "$T/shard0" "$T/shard1" "$T/shard2" >/dev/null || bad "merge"
if [ "$(export_runs "$T/full")" = "$(export_runs "$T/merged")" ]; then ok; else bad "merged shards differ from the unsharded sweep"; fi
if $BIN runs merge "$T/merged" "$T/shard0" "$T/shard1" "$T/shard2" | grep -q ": 0 runs added"; then ok; else bad "merge is not idempotent"; fi
$BIN reproduce kernels.mc-convergence --config "$T/sweep.toml" --seed 5 --out "$T/other" --quiet >/dev/null 2>&1
printf '[kernels.mc-convergence]\nwidths = [8, 16]\n' > "$T/small.toml"
$BIN reproduce kernels.mc-convergence --config "$T/small.toml" --out "$T/otherconfig" --quiet >/dev/null 2>&1
expect_error "mismatched stores" "different configuration" "" -- $BIN runs merge "$T/merged" "$T/otherconfig"

# --- Results do not depend on the thread count, bit for bit (OpenBLAS single-threaded, shape-only GEMM panels):
# experiments with eigendecompositions (a near-zero NTK eigenvalue) and least-norm solves, with 2 threads per run
# (OVERPARAM_THREADS=2 --jobs 1), 1 thread (OVERPARAM_THREADS=1) and 2 parallel runs of 1 thread each (--jobs 2).
# (Before OpenBLAS was pinned to one thread, all 17 stored runs differed between --jobs 1 and --jobs 2.)
for v in "2 1" "1 1" "2 2"; do
  th=${v% *}; jb=${v#* }
  OVERPARAM_THREADS=$th $BIN reproduce kernels.gallery theory.min-norm --jobs $jb --out "$T/threads$th-$jb" --quiet >/dev/null 2>&1 || bad "reproduce with OVERPARAM_THREADS=$th --jobs $jb"
done
ref=$(export_runs "$T/threads2-1")
if [ "$ref" = "$(export_runs "$T/threads1-1")" ] && [ "$ref" = "$(export_runs "$T/threads2-2")" ] && [ "$(echo "$ref" | wc -l)" -eq 17 ]; then ok
else bad "metrics depend on the thread count: $(diff <(echo "$ref") <(export_runs "$T/threads2-2") | head -4)"; fi

# --- Neural tangent hierarchy: kernels of the right shape, truncations compared with the true flow, clear errors.
if $BIN nth kernels --x "$T/x.npy" --order 3 --width 64 --out "$T/k3.npy" >/dev/null 2>"$T/stderr" \
   && python3 -c "import sys; h = open(sys.argv[1], 'rb').read(128).decode('latin1'); sys.exit(0 if \"'shape': (4, 4, 4)\" in h else 1)" "$T/k3.npy"; then ok; else bad "nth kernels: $(cat "$T/stderr")"; fi
if $BIN nth evolve --x-train "$T/x.npy" --y-train "$T/y.npy" --x-test "$T/z.npy" --width 64 --time 1 --points 4 --log "$T/nth.csv" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "^p=4" "$T/stdout" && [ "$(wc -l < "$T/nth.csv")" -eq 25 ]; then ok; else bad "nth evolve: $(cat "$T/stderr")"; fi
expect_error "nth order" "--order.*2, 3 or 4" "$T/k5.npy" -- $BIN nth kernels --x "$T/x.npy" --order 5 --out "$T/k5.npy"
expect_error "nth targets" "--y-train.*4 x 1" "$T/bad.csv" -- $BIN nth evolve --x-train "$T/x.npy" --y-train "$T/z.npy" --log "$T/bad.csv"
expect_error "nth truncation" "--truncation.*2, 3, 4 or 3r" "$T/bad.csv" -- $BIN nth evolve --x-train "$T/x.npy" --y-train "$T/y.npy" --truncation 5 --log "$T/bad.csv"

# --- Random networks at initialization (seed 004 ch. 3-4): Monte-Carlo cumulants, the kappa_4 recursion, deep linear
# norms and exact linear regions; clear errors for bad input.
npy_shape() { python3 -c "import sys; h = open(sys.argv[1], 'rb').read(128).decode('latin1'); sys.exit(0 if \"'shape': $2\" in h else 1)" "$1"; }
if $BIN init moments --x "$T/x.npy" --networks 2000 --out "$T/mc.npy" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "NNGP K(x,x)" "$T/stdout" && grep -q "closure 3k4/K^2" "$T/stdout" && npy_shape "$T/mc.npy" "(2000, 4)"; then ok; else bad "init moments: $(cat "$T/stderr")"; fi
if $BIN init cumulants --monte-carlo 2000 --out "$T/cum.csv" > "$T/stdout" 2>"$T/stderr" \
   && [ "$(wc -l < "$T/cum.csv")" -eq 5 ] && [ "$(head -1 "$T/cum.csv" | tr ',' '\n' | wc -l)" -eq 10 ] && grep -q "^4\*" "$T/stdout"; then ok; else bad "init cumulants: $(cat "$T/stderr")"; fi
if $BIN init deep-linear --widths 16,16,16 --samples 500 --exact-count 1000 --out "$T/dl.npy" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "z vs exact" "$T/stdout" && npy_shape "$T/dl.npy" "(1000,)"; then ok; else bad "init deep-linear: $(cat "$T/stderr")"; fi
if $BIN init regions --box 2 --width 8 --svg "$T/regions.svg" --csv "$T/regions.csv" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "is 37, and 37 are found" "$T/stdout" && grep -q "<polygon" "$T/regions.svg" \
   && [ "$(wc -l < "$T/regions.csv")" -eq $(( $(sed -n 's/.*: \([0-9]*\) activation regions.*/\1/p' "$T/stdout") + 1 )) ]; then ok; else bad "init regions --box: $(cat "$T/stderr")"; fi
if $BIN init regions --input-dimension 3 --segment='-1,0,0;1,1,1' --csv "$T/segment.csv" > "$T/stdout" 2>"$T/stderr" \
   && [ "$(wc -l < "$T/segment.csv")" -eq $(( $(sed -n 's/.*activation regions: \([0-9]*\);.*/\1/p' "$T/stdout") + 1 )) ]; then ok; else bad "init regions --segment: $(cat "$T/stderr")"; fi
expect_error "init zero networks" "--networks" "$T/mc0.npy" -- $BIN init moments --networks 0 --out "$T/mc0.npy"
expect_error "init NaN input" "--x.*NaN" "$T/mc1.npy" -- $BIN init moments --x "$T/nan.npy" --out "$T/mc1.npy"
expect_error "init width 0" "--width" "$T/c0.csv" -- $BIN init cumulants --width 0 --out "$T/c0.csv"
expect_error "init deep-linear widths" "--widths" "$T/dl0.npy" -- $BIN init deep-linear --widths 8,0 --out "$T/dl0.npy"
expect_error "init regions non-relu" "--activation.*relu" "$T/r0.svg" -- $BIN init regions --box 2 --activation tanh --svg "$T/r0.svg"
expect_error "init regions box needs 2-D" "--box.*input-dimension 2" "$T/r1.csv" -- $BIN init regions --box 2 --input-dimension 3 --csv "$T/r1.csv"

# --- Seed 002's convex formulation: train on cos 4x, diagnose the saved network, reload reproduces the final loss.
if $BIN convex train --task cos4x --samples 128 --depth 2 --base-width 8 --steps 300 --record-every 50 --out "$T/cvx" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "train RMSE" "$T/stdout" && grep -q "^V(w, u) = " "$T/stdout" \
   && [ "$(ls "$T/cvx" | tr '\n' ' ')" = "log.csv network.json u.npy w1.npy w2.npy " ] && [ "$(wc -l < "$T/cvx/log.csv")" -eq 8 ] \
   && npy_shape "$T/cvx/w2.npy" "(8, 16)" && npy_shape "$T/cvx/u.npy" "(8, 1)"; then ok; else bad "convex train: $(cat "$T/stderr")"; fi
if $BIN convex diagnose "$T/cvx" --task cos4x --samples 128 --grid-points 11 > "$T/stdout" 2>"$T/stderr" \
   && [ "$(ls "$T/cvx/diagnostics" | tr '\n' ' ')" = "features.csv objective.csv optimality-summary.csv optimality.csv sparsity.csv variance.csv " ] \
   && [ "$(wc -l < "$T/cvx/diagnostics/optimality.csv")" -eq 25 ] && [ "$(wc -l < "$T/cvx/diagnostics/features.csv")" -eq 265 ] \
   && [ "$(head -1 "$T/cvx/diagnostics/optimality-summary.csv")" = "layer,r,slope,intercept" ] && grep -q "^total," "$T/cvx/diagnostics/variance.csv" \
   && python3 - "$T/cvx/log.csv" "$T/cvx/diagnostics/objective.csv" <<'PY'
import csv, sys
last = list(csv.DictReader(open(sys.argv[1])))[-1]; again = next(csv.DictReader(open(sys.argv[2])))
# The same forward pass on the same bits: equal up to the summation order of a threaded BLAS (1e-12 relative).
sys.exit(0 if all(abs(float(last[k]) - float(again[k])) <= 1e-12 * abs(float(last[k])) for k in ("loss", "regularizer", "Q", "train_rmse")) else 1)
PY
then ok; else bad "convex diagnose / reload: $(cat "$T/stderr")"; fi
if $BIN convex train --x "$T/x.npy" --y "$T/y.npy" --widths 6,3 --regularizer l21 --optimizer subgradient --lambda 1e-4,1e-4,0 --steps 20 --out "$T/cvx2" >/dev/null 2>"$T/stderr" \
   && $BIN convex diagnose "$T/cvx2" --x "$T/x.npy" --y "$T/y.npy" --out "$T/cvx2-diag" > "$T/stdout" 2>>"$T/stderr" \
   && grep -q "not computed" "$T/stdout" && [ "$(ls "$T/cvx2-diag" | tr '\n' ' ')" = "objective.csv sparsity.csv variance.csv " ]; then ok; else bad "convex on files, l21, subgradient: $(cat "$T/stderr")"; fi
expect_error "convex x/y rows" "--y.*rows" "$T/cvx-e1" -- $BIN convex train --x "$T/x.npy" --y "$T/ydup.npy" --out "$T/cvx-e1"
expect_error "convex regularizer" "--regularizer.*l12, l21 or l-half-4" "$T/cvx-e2" -- $BIN convex train --task cos4x --regularizer l3 --out "$T/cvx-e2"
expect_error "convex negative lambda" "--lambda.*>= 0" "$T/cvx-e3" -- $BIN convex train --task cos4x --lambda=-1 --out "$T/cvx-e3"
expect_error "convex widths vs depth" "--widths.*--depth" "$T/cvx-e4" -- $BIN convex train --task cos4x --widths 8,4 --depth 3 --out "$T/cvx-e4"
expect_error "convex not a network" "not a saved network" "$T/cvx-diag" -- $BIN convex diagnose "$T" --task cos4x --out "$T/cvx-diag"
expect_error "convex diagnose input width" "--x.*d = 1" "$T/cvx-diag" -- $BIN convex diagnose "$T/cvx" --x "$T/x.npy" --y "$T/y.npy" --out "$T/cvx-diag"

# --- --mnist DIR: the image experiments read MNIST IDX files (a small fake set here: 400 train, 100 test, 28x28,
# each label lighting its own block of pixels) and say so in the report; a folder without them is one clear error.
python3 - "$T/mnist" <<'PY'
import gzip, os, random, struct, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True); rng = random.Random(0)
for prefix, n in (("train", 400), ("t10k", 100)):
    labels = [i % 10 for i in range(n)]
    pixels = bytearray()
    for y in labels:
        img = [rng.randrange(0, 60) for _ in range(784)]
        for p in range(78 * y, 78 * y + 78): img[p] = 255
        pixels += bytes(img)
    with gzip.open(f"{d}/{prefix}-images-idx3-ubyte.gz", "wb") as f: f.write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(pixels))
    with open(f"{d}/{prefix}-labels-idx1-ubyte", "wb") as f: f.write(struct.pack(">II", 0x801, n) + bytes(labels))
PY
printf '[regimes.breaking-ntk]\nwidth = 64\nepochs = 1\nseeds = 1\n' > "$T/mnist.toml"
if $BIN reproduce regimes.breaking-ntk --mnist "$T/mnist" --config "$T/mnist.toml" --out "$T/mnist-out" --quiet >/dev/null 2>"$T/stderr" \
   && grep -q "Images: MNIST (" "$T/mnist-out/index.html"; then ok; else bad "reproduce --mnist: $(cat "$T/stderr")"; fi
expect_error "missing MNIST files" "train-images-idx3-ubyte.*--mnist" "" -- $BIN reproduce regimes.breaking-ntk --mnist "$T/nowhere" --out "$T/nomnist"

# --- The report of the merged store renders in a real browser.
$BIN report "$T/merged" >/dev/null || bad "report"
if [ "${SKIP_BROWSER:-0}" = "1" ]; then echo "browser check skipped (SKIP_BROWSER=1)"; else
  if bash scripts/check-report.sh "$T/merged"; then ok; else bad "report check in Chromium"; fi
fi

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]

# ===== overparam features (issue #15, seed 000 sec. VI): train --save-params -> features fit / prune / random-features =====
# Three Gaussian blobs in 4-D (CSV, written with plain Python), a small tanh net trained on them and saved, a mixture
# and a VAE fitted to its neurons, pruning by both rules, output-layer training on saved, sampled and Gaussian features.
F="$T/feat"
python3 - "$F" <<'PY'
import os, random, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True); rng = random.Random(0)
centers = [[rng.gauss(0, 2) for _ in range(4)] for _ in range(3)]
def write(name, rows): open(f"{d}/{name}", "w").write("\n".join(",".join(repr(v) for v in r) for r in rows) + "\n")
for part, n in (("train", 240), ("test", 90)):
    y = [i % 3 for i in range(n)]
    write(f"{part}-x.csv", [[c + rng.gauss(0, 1) for c in centers[k]] for k in y])
    write(f"{part}-labels.csv", [[k] for k in y])
    write(f"{part}-onehot.csv", [[float(k == c) for c in range(3)] for k in y])
write("bad-labels.csv", [[6 if i == 7 else i % 3] for i in range(240)])
write("half-labels.csv", [[0.5] for i in range(240)])
PY
if $BIN train --data "$F/train-x.csv" --targets "$F/train-onehot.csv" --depth 1 --width 40 --activation tanh --parameterization standard \
     --weight-variance 1 --bias-variance 0.1 --loss cross-entropy --optimizer adam --learning-rate 0.01 --l2 1e-3 --steps 300 \
     --log "$F/train.csv" --save-params "$F/net" > "$T/stdout" 2>"$T/stderr" \
   && npy_shape "$F/net/theta.npy" "(40, 5)" && npy_shape "$F/net/u.npy" "(40, 3)" && npy_shape "$F/net/c.npy" "(3, 1)" \
   && npy_shape "$F/net/W1.npy" "(40, 4)" && npy_shape "$F/net/b2.npy" "(3, 1)"; then ok; else bad "train --save-params: $(cat "$T/stderr")"; fi
if $BIN features fit --samples "$F/net/theta.npy" --components 1,2,3 --draw 50 --out "$F/gmm.npy" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "^chosen: Gaussian mixture with [123] " "$T/stdout" && grep -q "^held-out mean log-likelihood -\?[0-9]" "$T/stdout" \
   && npy_shape "$F/gmm.npy" "(50, 5)"; then ok; else bad "features fit gmm: $(cat "$T/stderr")"; fi
if $BIN features fit --samples "$F/net/theta.npy" --model vae --latent-dimension 2 --hidden-width 16 --epochs 20 --batch 16 --draw 30 --out "$F/vae.npy" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "^chosen: variational autoencoder" "$T/stdout" && grep -q "^held-out mean log-likelihood" "$T/stdout" \
   && npy_shape "$F/vae.npy" "(30, 5)"; then ok; else bad "features fit vae: $(cat "$T/stderr")"; fi
if $BIN features prune --theta "$F/net/theta.npy" --u "$F/net/u.npy" --x "$F/train-x.csv" --labels "$F/train-labels.csv" \
     --test-x "$F/test-x.csv" --test-labels "$F/test-labels.csv" --keep 5 --repetitions 3 --epochs 30 --learning-rate 0.01 --out "$F/prune.csv" > "$T/stdout" 2>"$T/stderr" \
   && grep -q "^importance  " "$T/stdout" && grep -q "^uniform  " "$T/stdout" && [ "$(wc -l < "$F/prune.csv")" -eq 7 ] \
   && head -1 "$F/prune.csv" | grep -q "^rule,repetition,distinct_neurons,train_cross_entropy,train_accuracy,test_accuracy$"; then ok; else bad "features prune: $(cat "$T/stderr")"; fi
# Output-layer training on the trained features must classify the blobs (the net itself reaches about 90 %).
if $BIN features random-features --features "$F/net/theta.npy" --x "$F/train-x.csv" --labels "$F/train-labels.csv" \
     --test-x "$F/test-x.csv" --test-labels "$F/test-labels.csv" --ridge 1e-3 --out "$F/U.npy" > "$T/stdout" 2>"$T/stderr" \
   && [ "$(sed -n 's/.*test accuracy \([0-9]*\)\..*/\1/p' "$T/stdout")" -ge 70 ] && npy_shape "$F/U.npy" "(40, 3)"; then ok; else bad "features random-features (trained): $(cat "$T/stderr") $(cat "$T/stdout")"; fi
for src in "--features $F/gmm.npy" "--gaussian 50"; do
  if $BIN features random-features $src --x "$F/train-x.csv" --labels "$F/train-labels.csv" --test-x "$F/test-x.csv" --test-labels "$F/test-labels.csv" > "$T/stdout" 2>"$T/stderr" \
     && grep -q "^train accuracy .*test accuracy" "$T/stdout"; then ok; else bad "features random-features $src: $(cat "$T/stderr")"; fi
done
P=(--theta "$F/net/theta.npy" --u "$F/net/u.npy" --x "$F/train-x.csv")
expect_error "features label out of range" "--labels.*entry 7 is 6, outside 0..<3.*--u" "$F/p1.csv" -- $BIN features prune "${P[@]}" --labels "$F/bad-labels.csv" --keep 5 --out "$F/p1.csv"
expect_error "features label not an integer" "--labels.*entry 0 is 0.5, not an integer" "$F/p2.csv" -- $BIN features prune "${P[@]}" --labels "$F/half-labels.csv" --keep 5 --out "$F/p2.csv"
expect_error "features keep 0" "--keep.*1\.\.\.40" "$F/p3.csv" -- $BIN features prune "${P[@]}" --labels "$F/train-labels.csv" --keep 0 --out "$F/p3.csv"
expect_error "features keep > m" "--keep.*1\.\.\.40" "$F/p4.csv" -- $BIN features prune "${P[@]}" --labels "$F/train-labels.csv" --keep 41 --out "$F/p4.csv"
expect_error "features unknown rule" "--rule.*importance, uniform or both" "$F/p5.csv" -- $BIN features prune "${P[@]}" --labels "$F/train-labels.csv" --keep 5 --rule greedy --out "$F/p5.csv"
expect_error "features theta layout" "--theta.*d \+ 1 = 5 columns" "$F/p6.csv" -- $BIN features prune --theta "$F/net/W1.npy" --u "$F/net/u.npy" --x "$F/train-x.csv" --labels "$F/train-labels.csv" --keep 5 --out "$F/p6.csv"
expect_error "features u rows" "--u.*m = 40" "$F/p7.csv" -- $BIN features prune --theta "$F/net/theta.npy" --u "$F/net/W2.npy" --x "$F/train-x.csv" --labels "$F/train-labels.csv" --keep 5 --out "$F/p7.csv"
expect_error "features unknown model" "--model.*gmm or vae" "$F/f1.npy" -- $BIN features fit --samples "$F/net/theta.npy" --model kde --draw 5 --out "$F/f1.npy"
expect_error "features missing samples" "--samples.*no such file" "$F/f2.npy" -- $BIN features fit --samples "$F/missing.npy" --draw 5 --out "$F/f2.npy"
expect_error "features NaN samples" "--samples.*NaN" "$F/f3.npy" -- $BIN features fit --samples "$T/nan.npy" --draw 5 --out "$F/f3.npy"
expect_error "features too many components" "--components.*40" "$F/f4.npy" -- $BIN features fit --samples "$F/net/theta.npy" --components 1,64 --draw 5 --out "$F/f4.npy"
expect_error "features labels count" "--labels.*90 labels.*240 rows" "$F/U2.npy" -- $BIN features random-features --gaussian 10 --x "$F/train-x.csv" --labels "$F/test-labels.csv" --out "$F/U2.npy"
expect_error "features two sources" "--features/--gaussian" "$F/U3.npy" -- $BIN features random-features --gaussian 10 --features "$F/gmm.npy" --x "$F/train-x.csv" --labels "$F/train-labels.csv" --out "$F/U3.npy"
TRAIN=(--data "$F/train-x.csv" --targets "$F/train-onehot.csv" --depth 1 --width 8 --steps 5 --log "$F/t.csv")
if $BIN train "${TRAIN[@]}" --save-params "$F/net8" >/dev/null 2>"$T/stderr" && $BIN train "${TRAIN[@]}" --seed 1 --save-params "$F/net8" >/dev/null 2>>"$T/stderr" \
   && npy_shape "$F/net8/theta.npy" "(8, 5)"; then ok; else bad "train --save-params replaces its own folder: $(cat "$T/stderr")"; fi
expect_error "train --save-params into a file" "--save-params.*is a file" "" -- $BIN train "${TRAIN[@]}" --save-params "$F/train-x.csv"
expect_error "train --save-params over other files" "--save-params.*holds other files" "" -- $BIN train "${TRAIN[@]}" --save-params "$F"
expect_error "features singular ridge" "--ridge.*increase the penalty" "$F/p8.csv" -- $BIN features prune "${P[@]}" --labels "$F/train-labels.csv" --keep 30 --rule importance --refit ridge --ridge 0 --out "$F/p8.csv"

echo "cli (with features): $pass passed, $fail failed"
[ $fail -eq 0 ]
