#!/usr/bin/env python3
"""Benchmark neural-tangents 0.6.5 on the Overparam peer workloads (CPU, float64).

Run with the peer venv (bench/peers/setup.sh creates it):

    .venv-peers/bin/python bench/peers/nt_kernels.py            # readable table
    .venv-peers/bin/python bench/peers/nt_kernels.py --csv      # workload,seconds,gflops
    .venv-peers/bin/python bench/peers/nt_kernels.py --only ntk-empirical

Every workload is jitted, compiled/warmed up once at full size, then timed 3
times (block_until_ready); the best time is reported. The gflops column is left
empty (NT does not expose a FLOP count and we do not invent one).

Workloads:
  nngp-ntk-analytic  analytic NNGP+NTK, relu MLP with 3 hidden layers,
                     n = 2000 inputs, d = 100, kernel_fn(x, None, ('nngp','ntk')).
  ntk-empirical      empirical NTK of the same architecture at width 1024,
                     n = 1000, d = 100, empirical_ntk_fn(..., vmap_axes=0,
                     implementation=3) (falls back to 2 with a note on stderr).
  predict-5000       gradient_descent_mse_ensemble with the analytic kernel,
                     5000 train / 500 test points, d = 100, get='ntk',
                     compute_cov=True at t = 10 and t = None (infinity),
                     diag_reg = 1e-4 (relative to mean diagonal, NT default).
"""
import argparse
import math
import sys
import time
import types

# neural_tangents.experimental imports TensorFlow; skip it (see /work/shared/PEERS.md).
sys.modules["neural_tangents.experimental"] = types.ModuleType("neural_tangents.experimental")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import neural_tangents as nt  # noqa: E402
from neural_tangents import stax  # noqa: E402

W_STD = math.sqrt(2.0)
B_STD = math.sqrt(0.1)
DEPTH = 3
D = 100
REPEATS = 3


def mlp(width):
    layers = [stax.Dense(width, W_std=W_STD, b_std=B_STD), stax.Relu()] * DEPTH
    return stax.serial(*layers, stax.Dense(1, W_std=W_STD, b_std=B_STD))


def block(tree):
    return jax.tree_util.tree_map(lambda a: a.block_until_ready(), tree)


def best_of(fn, repeats=REPEATS):
    block(fn())  # compile + warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_analytic():
    _, _, kernel_fn = mlp(512)
    x = jax.random.normal(jax.random.PRNGKey(0), (2000, D), dtype=jnp.float64)
    kfn = jax.jit(kernel_fn, static_argnames=("get",))
    return best_of(lambda: kfn(x, None, get=("nngp", "ntk")))


def bench_empirical():
    init_fn, apply_fn, _ = mlp(1024)
    k_param, k_x = jax.random.split(jax.random.PRNGKey(1))
    x = jax.random.normal(k_x, (1000, D), dtype=jnp.float64)
    _, params = init_fn(k_param, x.shape)
    params = jax.tree_util.tree_map(lambda p: jnp.asarray(p, jnp.float64), params)
    last_err = None
    for impl in (3, 2):
        try:
            ntk_fn = jax.jit(nt.empirical_ntk_fn(apply_fn, vmap_axes=0, implementation=impl))
            return best_of(lambda: ntk_fn(x, None, params))
        except Exception as e:  # noqa: BLE001 - report and fall back
            last_err = e
            print(f"ntk-empirical: implementation={impl} failed ({type(e).__name__}: {e}); "
                  f"falling back", file=sys.stderr)
    raise RuntimeError(f"empirical NTK failed with implementations 3 and 2: {last_err}")


def bench_predict():
    _, _, kernel_fn = mlp(512)
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(2), 3)
    x_train = jax.random.normal(k1, (5000, D), dtype=jnp.float64)
    y_train = jax.random.normal(k2, (5000, 1), dtype=jnp.float64)
    x_test = jax.random.normal(k3, (500, D), dtype=jnp.float64)

    @jax.jit
    def run(x_train, y_train, x_test):
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            kernel_fn, x_train, y_train, diag_reg=1e-4)
        finite = predict_fn(t=10.0, x_test=x_test, get="ntk", compute_cov=True)
        infinite = predict_fn(t=None, x_test=x_test, get="ntk", compute_cov=True)
        return finite.mean, finite.covariance, infinite.mean, infinite.covariance

    return best_of(lambda: run(x_train, y_train, x_test))


WORKLOADS = {
    "nngp-ntk-analytic": bench_analytic,
    "ntk-empirical": bench_empirical,
    "predict-5000": bench_predict,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", action="store_true",
                    help="print only 'workload,seconds,gflops' lines")
    ap.add_argument("--only", choices=sorted(WORKLOADS), help="run one workload")
    args = ap.parse_args()

    names = [args.only] if args.only else list(WORKLOADS)
    if not args.csv:
        print(f"neural-tangents {nt.__version__}, jax {jax.__version__}, "
              f"backend {jax.default_backend()}, float64, best of {REPEATS} after warm-up")
        print(f"{'workload':<20} {'seconds':>10}")
    for name in names:
        seconds = WORKLOADS[name]()
        if args.csv:
            print(f"{name},{seconds:.6f},", flush=True)
        else:
            print(f"{name:<20} {seconds:>10.4f}", flush=True)


if __name__ == "__main__":
    main()
