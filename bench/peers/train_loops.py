#!/usr/bin/env python3
"""Minibatch SGD training loops in NumPy, PyTorch or JAX (CPU, float64): peers of `overparam bench train`.

Pinned versions (measure against these; a mismatch is reported on stderr):
    numpy  1.26.4                     (.venv-peers, bench/peers/setup.sh)
    jax / jaxlib 0.4.25, numpy 1.26.4 (.venv-peers, bench/peers/setup.sh)
    torch  2.13.0+cpu, numpy 1.26.4   (.venv-torch, bench/peers/setup-torch.sh)

Usage:
    .venv-peers/bin/python bench/peers/train_loops.py --framework numpy [--csv] [--only NAME] [--repeats K]
    .venv-peers/bin/python bench/peers/train_loops.py --framework jax
    .venv-torch/bin/python bench/peers/train_loops.py --framework torch

Workloads (the same as Sources/Overparam/Bench/TrainingBenchmarks.swift):
  Data      n = 2000 inputs x_i ~ N(0, I_100), targets y_i ~ N(0, 1) (one output), float64, drawn from the
            framework's own seeded RNG (sizes match ours, values do not).
  Network   standard parameterization with biases, z^(l) = W^(l) x^(l-1) + b^(l),
            W^(l) (n_l x n_{l-1}) ~ N(0, 2 / n_{l-1}), b^(l) ~ N(0, 0.1) (variance); ReLU hidden, linear output.
              sgd-two-layer  100 -> 1000 -> 1,              2000 timed steps
              sgd-depth3     100 -> 512 -> 512 -> 512 -> 1, 1000 timed steps
  Loss      L = (1 / 2B) sum_i (f(x_i) - y_i)^2 over the minibatch, B = 100.
  SGD       learning rate 0.01, no momentum, no weight decay. Each epoch draws a fresh random permutation of
            the 2000 indices and takes consecutive blocks of 100 (20 steps per epoch); every step gathers
            X[idx], Y[idx].
  One step  = batch gather, forward, loss, backward (gradients of all weights and biases), parameter update.
  Timing    50 untimed warm-up steps (JAX compiles here), then the timed loop of `steps` steps inside
            time.perf_counter(), `--repeats` times (default 3); training continues across the runs and the
            best seconds/step is reported. JAX: block_until_ready on the parameters before stopping the clock.
            (Ours also evaluates the full-data loss at the start and end of each timed run, 2 forward passes
            over 2000 points per run, under 1 % of its time; the loops here do not.)

Frameworks:
  numpy  hand-written forward/backward with matrix products (X @ W.T, ...), in-place updates W -= lr * gW.
  torch  torch.nn.Linear layers (torch.set_default_dtype(torch.float64)), torch.optim.SGD(lr=0.01),
         loss = 0.5 * ((f - y)**2).mean(), zero_grad/backward/step; torch's default thread count;
         permutation from torch.randperm with a seeded torch.Generator, indexing torch tensors.
  jax    jax_enable_x64, params a list of (W, b); one jitted step (jax.grad + tree_map update) returning new
         params. Batches are gathered on the host (the default): numpy permutation, X[idx] / Y[idx] on host
         numpy arrays passed into the jitted step(params, xb, yb). The alternative, --jax-gather device, passes
         idx and gathers with jnp.take inside jit. Measured interleaved on this 2-core machine, the two agree
         within noise (two-layer: host 1.63 ms vs device 1.67 ms best-of-10; depth3: 7.2 vs 6.9 ms, run-to-run
         spread +-30 %), so host gathering (the form asked for: step(params, xb, yb)) is the default.
         Buffer donation (donate_argnums=0) made no measurable difference either and is not used.

Output: `--csv` prints `workload,seconds,` lines (seconds per step, 6 significant digits, empty gflops
field), the format of bench/compare.py; otherwise a table with seconds/step, steps/s and the full-data loss
before the warm-up and after the last timed run (a sanity check that SGD is descending).
"""
import argparse
import math
import sys
import time

N, D, BATCH, LR, WARMUP = 2000, 100, 100, 0.01, 50
SEED = 0
WORKLOADS = {
    "sgd-two-layer": ([D, 1000, 1], 2000),
    "sgd-depth3": ([D, 512, 512, 512, 1], 1000),
}
PINS = {
    "numpy": {"numpy": "1.26.4"},
    "jax": {"numpy": "1.26.4", "jax": "0.4.25", "jaxlib": "0.4.25"},
    "torch": {"numpy": "1.26.4", "torch": "2.13.0+cpu"},
}


def check_pins(framework):
    import importlib.metadata as md
    found = {}
    for pkg, want in PINS[framework].items():
        try:
            have = md.version(pkg)
        except md.PackageNotFoundError:
            have = None
        found[pkg] = have
        if have != want:
            print(f"warning: {pkg} {have} installed, pinned {want}", file=sys.stderr)
    return found


# --------------------------------------------------------------------------------------------- numpy

class NumpyLoop:
    def __init__(self, widths):
        import numpy as np
        self.np = np
        self.rng = np.random.default_rng(SEED)
        rng = self.rng
        self.X = rng.standard_normal((N, D))
        self.Y = rng.standard_normal((N, 1))
        self.Ws = [rng.normal(0.0, math.sqrt(2.0 / a), (b, a)) for a, b in zip(widths[:-1], widths[1:])]
        self.bs = [rng.normal(0.0, math.sqrt(0.1), b) for b in widths[1:]]
        self.t = 0
        self.perm = None

    def forward(self, x):
        """Hidden activations (post-ReLU, input first) and the output."""
        acts = [x]
        h = x
        last = len(self.Ws) - 1
        for l, (W, b) in enumerate(zip(self.Ws, self.bs)):
            z = h @ W.T
            z += b
            if l < last:
                self.np.maximum(z, 0.0, out=z)
                acts.append(z)
            h = z
        return acts, h

    def full_loss(self):
        _, f = self.forward(self.X)
        return 0.5 * float(self.np.mean((f - self.Y) ** 2))

    def run(self, steps):
        np = self.np
        Ws, bs = self.Ws, self.bs
        per_epoch = N // BATCH
        for _ in range(steps):
            k = self.t % per_epoch
            if k == 0:
                self.perm = self.rng.permutation(N)
            self.t += 1
            idx = self.perm[k * BATCH:(k + 1) * BATCH]
            xb, yb = self.X[idx], self.Y[idx]
            acts, f = self.forward(xb)
            # dL/df for L = (1/2B) sum (f - y)^2
            delta = f - yb
            delta *= 1.0 / BATCH
            for l in range(len(Ws) - 1, -1, -1):
                gW = delta.T @ acts[l]
                gb = delta.sum(axis=0)
                if l > 0:
                    delta = delta @ Ws[l]
                    delta *= acts[l] > 0.0   # ReLU'(z) = [z > 0] = [relu(z) > 0]
                Ws[l] -= LR * gW
                bs[l] -= LR * gb

    def finish(self):
        pass


# --------------------------------------------------------------------------------------------- torch

class TorchLoop:
    def __init__(self, widths):
        import torch
        self.torch = torch
        torch.set_default_dtype(torch.float64)
        g = torch.Generator().manual_seed(SEED)
        self.g = g
        self.X = torch.randn(N, D, generator=g)
        self.Y = torch.randn(N, 1, generator=g)
        layers = []
        for l, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            lin = torch.nn.Linear(a, b)
            with torch.no_grad():
                torch.nn.init.normal_(lin.weight, 0.0, math.sqrt(2.0 / a), generator=g)
                torch.nn.init.normal_(lin.bias, 0.0, math.sqrt(0.1), generator=g)
            layers.append(lin)
            if l < len(widths) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.t = 0
        self.perm = None

    def full_loss(self):
        with self.torch.no_grad():
            return float(0.5 * ((self.model(self.X) - self.Y) ** 2).mean())

    def run(self, steps):
        torch, model, opt, X, Y = self.torch, self.model, self.opt, self.X, self.Y
        per_epoch = N // BATCH
        for _ in range(steps):
            k = self.t % per_epoch
            if k == 0:
                self.perm = torch.randperm(N, generator=self.g)
            self.t += 1
            idx = self.perm[k * BATCH:(k + 1) * BATCH]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad()
            loss = 0.5 * ((model(xb) - yb) ** 2).mean()
            loss.backward()
            opt.step()

    def finish(self):
        pass


# --------------------------------------------------------------------------------------------- jax

class JaxLoop:
    def __init__(self, widths, gather="host"):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import numpy as np
        self.jax, self.jnp, self.np = jax, jnp, np
        self.gather = gather
        self.rng = np.random.default_rng(SEED)       # host permutations
        keys = jax.random.split(jax.random.PRNGKey(SEED), 2 + 2 * (len(widths) - 1))
        self.X_host = np.asarray(jax.random.normal(keys[0], (N, D), dtype=jnp.float64))
        self.Y_host = np.asarray(jax.random.normal(keys[1], (N, 1), dtype=jnp.float64))
        self.X, self.Y = jnp.asarray(self.X_host), jnp.asarray(self.Y_host)
        params = []
        for l, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            W = math.sqrt(2.0 / a) * jax.random.normal(keys[2 + 2 * l], (b, a), dtype=jnp.float64)
            bias = math.sqrt(0.1) * jax.random.normal(keys[3 + 2 * l], (b,), dtype=jnp.float64)
            params.append((W, bias))
        self.params = params

        def apply(params, x):
            h = x
            for W, b in params[:-1]:
                h = jax.nn.relu(h @ W.T + b)
            W, b = params[-1]
            return h @ W.T + b

        def loss(params, xb, yb):
            return 0.5 * jnp.mean((apply(params, xb) - yb) ** 2)

        def update(params, xb, yb):
            grads = jax.grad(loss)(params, xb, yb)
            return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)

        self.step_host = jax.jit(update)
        self.step_device = jax.jit(
            lambda params, X, Y, idx: update(params, jnp.take(X, idx, axis=0), jnp.take(Y, idx, axis=0)))
        self.full_loss_fn = jax.jit(lambda params: loss(params, self.X, self.Y))
        self.t = 0
        self.perm = None

    def full_loss(self):
        return float(self.full_loss_fn(self.params))

    def run(self, steps):
        per_epoch = N // BATCH
        params = self.params
        host = self.gather == "host"
        step_host, step_device = self.step_host, self.step_device
        for _ in range(steps):
            k = self.t % per_epoch
            if k == 0:
                self.perm = self.rng.permutation(N)
            self.t += 1
            idx = self.perm[k * BATCH:(k + 1) * BATCH]
            if host:
                params = step_host(params, self.X_host[idx], self.Y_host[idx])
            else:
                params = step_device(params, self.X, self.Y, idx)
        self.params = params

    def finish(self):
        self.jax.block_until_ready(self.params)


# --------------------------------------------------------------------------------------------- driver

def make_loop(framework, widths, jax_gather):
    if framework == "numpy":
        return NumpyLoop(widths)
    if framework == "torch":
        return TorchLoop(widths)
    return JaxLoop(widths, gather=jax_gather)


def bench(framework, name, repeats, jax_gather):
    widths, steps = WORKLOADS[name]
    loop = make_loop(framework, widths, jax_gather)
    loss0 = loop.full_loss()
    loop.run(WARMUP)
    loop.finish()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        loop.run(steps)
        loop.finish()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best, loss0, loop.full_loss()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--framework", required=True, choices=["numpy", "torch", "jax"])
    ap.add_argument("--csv", action="store_true", help="print only 'workload,seconds,' lines (seconds per step)")
    ap.add_argument("--only", choices=sorted(WORKLOADS), help="run one workload")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported (default 3)")
    ap.add_argument("--jax-gather", choices=["host", "device"], default="host",
                    help="jax only: gather batches on the host (default) or with jnp.take inside jit")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")

    try:
        __import__(args.framework)
    except ImportError as e:
        venv, setup = ((".venv-torch", "setup-torch.sh") if args.framework == "torch"
                       else (".venv-peers", "setup.sh"))
        sys.exit(f"train_loops.py: cannot import {args.framework} ({e}); run with {venv}/bin/python "
                 f"(created by bench/peers/{setup})")
    versions = check_pins(args.framework)
    names = [args.only] if args.only else list(WORKLOADS)
    if not args.csv:
        extra = ""
        if args.framework == "torch":
            import torch
            extra = f", {torch.get_num_threads()} threads"
        elif args.framework == "jax":
            import jax
            extra = f", backend {jax.default_backend()}, {args.jax_gather} gather"
        print(f"{args.framework}: " + ", ".join(f"{k} {v}" for k, v in versions.items())
              + f"{extra}; float64, best of {args.repeats} after {WARMUP} warm-up steps")
        print(f"{'workload':<16}{'s/step':>12}{'steps/s':>10}  full-data loss (start -> end)")
    for name in names:
        sec, loss0, loss1 = bench(args.framework, name, args.repeats, args.jax_gather)
        if args.csv:
            print(f"{name},{sec:.6g},", flush=True)
        else:
            print(f"{name:<16}{sec:>12.3e}{1 / sec:>10.0f}  {loss0:.4f} -> {loss1:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
