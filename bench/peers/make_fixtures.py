#!/usr/bin/env python3
"""Write neural-tangents 0.6.5 reference fixtures for the Swift tests.

    .venv-peers/bin/python bench/peers/make_fixtures.py [--out DIR] [--no-verify]

Output (default Tests/OverparamTests/Fixtures/): float64 C-order .npy files
described in that folder's README.md. Deterministic: inputs come from numpy's
PCG64 generator with fixed seeds, so rerunning reproduces the same bytes (up to
last-bit differences if the JAX/XLA build changes).

After writing, the kernels and predictions are re-derived independently in
plain numpy (arc-cosine / erf / sin dual-activation recursions and closed-form
gradient-flow formulas) and the max differences are printed to stderr.
"""
import argparse
import math
import os
import sys
import types

sys.modules["neural_tangents.experimental"] = types.ModuleType("neural_tangents.experimental")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import neural_tangents as nt  # noqa: E402
from neural_tangents import stax  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "OverparamTests", "Fixtures"))

ACTIVATIONS = {
    # name: (stax layer factory, (a, b) for the numpy ABReLU check or a tag)
    "relu": lambda: stax.Relu(),
    "erf": lambda: stax.Erf(),            # erf(x)   (a=1, b=1, c=0)
    "identity": lambda: stax.Identity(),
    "abs": lambda: stax.ABRelu(-1.0, 1.0),
    "leaky": lambda: stax.ABRelu(0.1, 1.0),
    "sin": lambda: stax.Sin(),            # sin(x)   (a=1, b=1, c=0)
}
DEPTHS = [1, 3]
HYPERS = [(2.0, 0.1), (1.5, 0.0)]
WIDTH = 512  # ignored by the analytic kernel in NTK parameterization

PRED_LR = 1.0
PRED_TIMES = [(0.5, "0.5"), (None, "inf")]
PRED_REGS = [(0.0, "0"), (1e-2, "0.01")]   # 1e-2 used with diag_reg_absolute_scale=True


def network(act, depth, cw, cb):
    w, b = math.sqrt(cw), math.sqrt(cb)
    layers = [stax.Dense(WIDTH, W_std=w, b_std=b), ACTIVATIONS[act]()] * depth
    return stax.serial(*layers, stax.Dense(1, W_std=w, b_std=b))


def kname(act, depth, cw, cb, which, pair):
    return f"k_{act}_L{depth}_cw{cw:.1f}_cb{cb:.1f}_{which}_{pair}.npy"


def save(out, name, arr, written):
    arr = np.ascontiguousarray(np.asarray(arr, dtype=np.float64))
    if not np.all(np.isfinite(arr)):
        raise RuntimeError(f"{name}: non-finite values")
    np.save(os.path.join(out, name), arr)
    written[name] = arr


def make_inputs():
    rng = np.random.default_rng(20240601)
    x1 = rng.standard_normal((7, 5))
    x2 = rng.standard_normal((4, 5))
    x1[6] = x1[2]          # exact duplicate row: x1[6] == x1[2]
    x2[1] = 2.0 * x1[4]    # parallel input: x2[1] == 2 * x1[4]
    y_train = np.random.default_rng(7).standard_normal((7, 1))
    xp_train = np.random.default_rng(11).standard_normal((7, 5))
    return x1, x2, y_train, xp_train


# ----------------------------------------------------------------------------
# Independent numpy re-derivation
# ----------------------------------------------------------------------------

def _dual(act, q11, q22, q12, aligned=None):
    """E[phi(u)phi(v)] and E[phi'(u)phi'(v)] for (u,v) ~ N(0, [[q11,q12],[q12,q22]]).

    `aligned` marks pairs known to be exactly positively parallel (identical
    inputs, or parallel inputs without bias); for the piecewise-linear
    activations these use the exact angle theta = 0 instead of arccos(~1),
    whose sqrt(eps) error otherwise cascades through the layers."""
    if act in ("relu", "abs", "leaky"):
        a, b = {"relu": (0.0, 1.0), "abs": (-1.0, 1.0), "leaky": (0.1, 1.0)}[act]
        c = np.clip(q12 / np.sqrt(q11 * q22), -1.0, 1.0)
        theta = np.arccos(c)
        s = np.sqrt(np.maximum(q11 * q22 - q12 ** 2, 0.0))
        if aligned is not None:
            theta = np.where(aligned, 0.0, theta)
            s = np.where(aligned, 0.0, s)
            q12 = np.where(aligned, np.sqrt(q11 * q22), q12)
        f = (a - b) ** 2 / (2 * np.pi)
        dot = (a * a + b * b) / 2 - f * theta
        return f * s + dot * q12, dot
    if act == "erf":
        den = (1 + 2 * q11) * (1 + 2 * q22)
        return (2 / np.pi) * np.arcsin(2 * q12 / np.sqrt(den)), (4 / np.pi) / np.sqrt(den - 4 * q12 ** 2)
    if act == "sin":
        e = np.exp(-(q11 + q22) / 2)
        return e * np.sinh(q12), e * np.cosh(q12)
    if act == "identity":
        return q12, np.ones_like(q12)
    raise ValueError(act)


def aligned_pairs(xa, xb, cb):
    """Pairs (i, j) with xb[j] == s * xa[i], s > 0 exactly: identical rows always,
    other positive multiples only without bias (the bias breaks parallelism)."""
    out = np.zeros((len(xa), len(xb)), bool)
    for i, u in enumerate(xa):
        for j, v in enumerate(xb):
            if np.array_equal(u, v):
                out[i, j] = True
            elif cb == 0.0 and np.allclose(v, (v @ u) / (u @ u) * u, rtol=0, atol=1e-14) and v @ u > 0:
                out[i, j] = True
    return out


def np_kernels(act, depth, cw, cb, xa, xb):
    d = xa.shape[1]
    q12 = xa @ xb.T / d
    qa = np.sum(xa * xa, 1) / d
    qb = np.sum(xb * xb, 1) / d
    aligned = aligned_pairs(xa, xb, cb)
    # first Dense
    q12, qa, qb = cw * q12 + cb, cw * qa + cb, cw * qb + cb
    ntk = q12.copy()
    for _ in range(depth):
        nngp_act, dot = _dual(act, qa[:, None], qb[None, :], q12, aligned)
        diag_a, _ = _dual(act, qa, qa, qa)
        diag_b, _ = _dual(act, qb, qb, qb)
        q12 = cw * nngp_act + cb
        qa, qb = cw * diag_a + cb, cw * diag_b + cb
        ntk = q12 + cw * dot * ntk
    return q12, ntk


def np_predictions(K_dd, T_dd, K_td, T_td, K_tt, y, t, reg, lr=PRED_LR):
    """Closed forms of NT's gradient_descent_mse_ensemble (loss 0.5*mean over y.size)."""
    n = y.size
    out = {}
    Tr = T_dd + reg * np.eye(len(T_dd))
    Kr = K_dd + reg * np.eye(len(K_dd))
    if t is None:
        Ti = np.linalg.inv(Tr)
        A = T_td @ Ti                                     # test x train
        out["ntk_test_mean"] = A @ y
        out["ntk_test_cov"] = K_tt + A @ K_dd @ A.T - (A @ K_td.T + K_td @ A.T)
        out["ntk_train_mean"] = y                         # NT: x_test=None, t=inf -> N(y, 0)
        out["ntk_train_cov"] = np.zeros_like(T_dd)
        Ki = np.linalg.inv(Kr)
        out["nngp_test_mean"] = K_td @ Ki @ y
        out["nngp_test_cov"] = K_tt - K_td @ Ki @ K_td.T
        out["nngp_train_mean"] = y
        out["nngp_train_cov"] = np.zeros_like(K_dd)
    else:
        lam, V = np.linalg.eigh(Tr)
        lam = np.maximum(lam, 0.0)
        E = V @ np.diag(np.exp(-lam * lr * t / n)) @ V.T  # exp(-eta t Theta / n)
        M = V @ np.diag(-np.expm1(-lam * lr * t / n) / lam) @ V.T   # Theta^-1 (I - E)
        A = T_td @ M
        out["ntk_test_mean"] = A @ y
        out["ntk_test_cov"] = K_tt + A @ K_dd @ A.T - (A @ K_td.T + K_td @ A.T)
        out["ntk_train_mean"] = (np.eye(n) - E) @ y
        out["ntk_train_cov"] = E @ K_dd @ E
    return out


def rel_err(a, b):
    """(max elementwise |a-b|/|b| over entries with |b| > 1e-6 max|b|, max|a-b|/max|b|)."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.max(np.abs(b))
    if scale == 0:
        return float(np.max(np.abs(a))), float(np.max(np.abs(a)))
    mask = np.abs(b) > 1e-6 * scale
    el = np.max(np.abs(a - b)[mask] / np.abs(b)[mask]) if mask.any() else 0.0
    return float(el), float(np.max(np.abs(a - b)) / scale)


# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--no-verify", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    written = {}

    x1, x2, y_train, xp_train = make_inputs()
    save(args.out, "x1.npy", x1, written)
    save(args.out, "x2.npy", x2, written)
    save(args.out, "y_train.npy", y_train, written)

    # --- kernels -------------------------------------------------------------
    kernel_cache = {}
    for act in ACTIVATIONS:
        for depth in DEPTHS:
            for cw, cb in HYPERS:
                _, _, kernel_fn = network(act, depth, cw, cb)
                k12 = kernel_fn(jnp.asarray(x1), jnp.asarray(x2), ("nngp", "ntk"))
                k11 = kernel_fn(jnp.asarray(x1), None, ("nngp", "ntk"))
                for pair, k in (("12", k12), ("11", k11)):
                    for which in ("nngp", "ntk"):
                        save(args.out, kname(act, depth, cw, cb, which, pair), getattr(k, which), written)
                kernel_cache[(act, depth, cw, cb)] = kernel_fn

    # --- predictions ---------------------------------------------------------
    kernel_fn = kernel_cache[("relu", 3, 2.0, 0.1)]
    k_x1 = kernel_fn(jnp.asarray(x1), None, ("nngp", "ntk"))
    ev = np.linalg.eigvalsh(np.asarray(k_x1.ntk))
    print(f"relu L3 NTK on x1 (has a duplicate row): smallest eigenvalues {ev[:2]}, "
          f"cond {ev[-1] / max(ev[0], 1e-300):.3g} -> singular; predictions use xp_train",
          file=sys.stderr)
    x_train = xp_train
    save(args.out, "xp_train.npy", xp_train, written)
    xtr, ytr, xte = jnp.asarray(x_train), jnp.asarray(y_train), jnp.asarray(x2)

    for reg, reg_s in PRED_REGS:
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            kernel_fn, xtr, ytr, learning_rate=PRED_LR, diag_reg=reg,
            diag_reg_absolute_scale=True)
        for t, t_s in PRED_TIMES:
            for split, xt in (("test", xte), ("train", None)):
                g = predict_fn(t=t, x_test=xt, get="ntk", compute_cov=True)
                save(args.out, f"pred_ntk_t{t_s}_reg{reg_s}_{split}_mean.npy", g.mean, written)
                save(args.out, f"pred_ntk_t{t_s}_reg{reg_s}_{split}_cov.npy", g.covariance, written)
        for split, xt in (("test", xte), ("train", None)):
            g = predict_fn(t=None, x_test=xt, get="nngp", compute_cov=True)
            save(args.out, f"pred_nngp_tinf_reg{reg_s}_{split}_mean.npy", g.mean, written)
            save(args.out, f"pred_nngp_tinf_reg{reg_s}_{split}_cov.npy", g.covariance, written)

    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in written)
    print(f"wrote {len(written)} .npy files ({total / 1024:.1f} KiB) to {args.out}", file=sys.stderr)

    if args.no_verify:
        return

    # --- independent numpy verification --------------------------------------
    worst = {}
    for act in ACTIVATIONS:
        el_max = nrm_max = 0.0
        for depth in DEPTHS:
            for cw, cb in HYPERS:
                for pair, xb in (("12", x2), ("11", x1)):
                    nngp, ntk = np_kernels(act, depth, cw, cb, x1, xb)
                    for which, ref in (("nngp", nngp), ("ntk", ntk)):
                        el, nrm = rel_err(written[kname(act, depth, cw, cb, which, pair)], ref)
                        el_max, nrm_max = max(el_max, el), max(nrm_max, nrm)
        worst[act] = (el_max, nrm_max)
        print(f"verify kernels {act:<9} max elementwise rel diff {el_max:.2e}, "
              f"max abs diff / max|K| {nrm_max:.2e}", file=sys.stderr)

    # the piecewise-linear activations split into generic pairs and exactly aligned ones
    for act in ("relu", "abs", "leaky"):
        gen = ali = 0.0
        for depth in DEPTHS:
            for cw, cb in HYPERS:
                for pair, xb in (("12", x2), ("11", x1)):
                    nngp, ntk = np_kernels(act, depth, cw, cb, x1, xb)
                    mask = aligned_pairs(x1, xb, cb)
                    for which, ref in (("nngp", nngp), ("ntk", ntk)):
                        r = np.abs(written[kname(act, depth, cw, cb, which, pair)] - ref) / np.abs(ref)
                        gen = max(gen, float(np.max(r[~mask])))
                        if mask.any():
                            ali = max(ali, float(np.max(r[mask])))
        print(f"verify kernels {act:<9} generic pairs max rel diff {gen:.2e}; identical/parallel "
              f"pairs (exact theta = 0 reference) {ali:.2e}", file=sys.stderr)

    # predictions
    nngp_dd, ntk_dd = np_kernels("relu", 3, 2.0, 0.1, x_train, x_train)
    nngp_td, ntk_td = np_kernels("relu", 3, 2.0, 0.1, x2, x_train)
    nngp_tt, _ = np_kernels("relu", 3, 2.0, 0.1, x2, x2)
    pmax = 0.0
    for reg, reg_s in PRED_REGS:
        for t, t_s in PRED_TIMES:
            ref = np_predictions(nngp_dd, ntk_dd, nngp_td, ntk_td, nngp_tt, y_train, t, reg)
            for key, val in ref.items():
                g, split, kind = key.split("_")
                name = f"pred_{g}_t{t_s}_reg{reg_s}_{split}_{kind}.npy"
                nrm = rel_err(written[name], val)[1] if np.max(np.abs(val)) > 0 \
                    else float(np.max(np.abs(written[name])))
                pmax = max(pmax, nrm)
                if nrm > 1e-8:
                    print(f"  WARNING {name}: max abs diff / max|ref| = {nrm:.2e}", file=sys.stderr)
    print(f"verify predictions: max abs diff / max|ref| over all pred_*.npy {pmax:.2e}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
