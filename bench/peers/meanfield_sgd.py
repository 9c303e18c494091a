#!/usr/bin/env python3
"""Seed 003 fig. 3's mean-field SGD in NumPy, PyTorch or JAX (CPU, float64): peers of `overparam bench meanfield`.

Pinned versions (measure against these; a mismatch is reported on stderr):
    numpy  1.26.4                     (.venv-peers, bench/peers/setup.sh)
    jax / jaxlib 0.4.25, numpy 1.26.4 (.venv-peers, bench/peers/setup.sh)
    torch  2.13.0+cpu, numpy 1.26.4   (.venv-torch, bench/peers/setup-torch.sh)

Usage:
    .venv-peers/bin/python bench/peers/meanfield_sgd.py --framework numpy [--csv] [--only sgd-step|sweep]
                           [--repeats K] [--repetitions R] [--processes P]
    .venv-peers/bin/python bench/peers/meanfield_sgd.py --framework jax [--jax-loop step|fori]
    .venv-torch/bin/python bench/peers/meanfield_sgd.py --framework torch

The model (the same as Sources/Overparam/MeanField/TeacherStudentSweep.swift and ParticleSGD.swift):
  teacher   y = sum_{k<=m0} a_k relu(b_k . x), a_k = +-1, b_k uniform on the unit sphere of R^d, m0 = 10, d = 100
  student   h(x) = (1/m) sum_j t2_j relu(T1_j . x), no input bias; t2_j = +-1, T1_j uniform on the unit sphere
  step      X = B = 100 fresh rows x ~ N(0, I_d) (sampled every step, inside the timed loop), Y = teacher(X),
            delta = h(X) - Y, g = delta / B,
            t2 <- t2 - gamma g^T relu(Z)                              (Z = X T1^T, B x m)
            T1 <- T1 - gamma B (g t2^T * [Z > 0])^T X                 (the authors' convention: theta1's gradient
                                                                       summed over the batch, `sum-theta1` in ours)
            with gamma = 0.005; theta1's gradient uses t2 before its update. About 40 MFLOP at m = 1000.
  test risk (1/2n) sum (h(x_i) - y_i)^2 on n = 1000 fresh samples; success: risk < 1e-3.

Workloads:
  sgd-step  seconds per step at m = 1000 (steps/s = 1 / seconds): 50 untimed warm-up steps (JAX compiles here),
            then `--repeats` (default 3) timed runs of 1000 steps; the best is reported. JAX: block_until_ready.
  sweep     wall time of the teacher-student sweep: every width in WIDTHS (below), R repetitions each (the paper:
            30), 10^4 steps per run. As in ours (TeacherStudentSweep.runAll), a repetition r is one task: its teacher,
            test set and batch stream are shared by all its widths, each student (seeded by (m, r)) takes its step on
            the step's one fresh batch, in lockstep. Timed once, including JAX's compilation and the test risks.
            `--processes P` spreads the repetitions over P worker processes (spawned; each with one BLAS / torch
            thread), the analogue of ours running repetitions concurrently on all cores; the default (1) runs them
            in order in this process with the framework's default threading.

Random numbers come from each framework's own seeded generator (numpy default_rng, torch.Generator; JAX: numpy
for the initial values, jax.random (threefry) for the batches), so the sizes and the law match ours, the values
do not; the success counts of a sweep are printed as a sanity check (they should match ours statistically, not
exactly).

Frameworks:
  numpy  the step above with matrix products and in-place updates.
  torch  the same tensor operations (hand-written gradients under torch.no_grad(); --torch-mode autograd uses
         loss.backward() with learning rates gamma m (t2) and gamma m B (T1) instead); torch's default threads.
  jax    jax_enable_x64; one jitted step(students, key) -> (students, key) that splits the key, samples the batch
         with jax.random.normal, and applies jax.grad of each student's batch loss (scaled as above) to every
         student of the task (one compilation per tuple of widths). --jax-loop fori runs all steps of a task inside
         one jitted lax.fori_loop instead (no Python dispatch per step).

Memory: like overparam's CLI, the script sets glibc's mmap and trim thresholds to 1 GiB at start (see
keep_large_allocations_in_heap), which more than doubles NumPy's steps/s here.

Output: `--csv` prints `workload,seconds,` lines (bench/compare.py's format); otherwise a table.
"""
import argparse
import math
import os
import sys
import time

D, M0, BATCH, GAMMA, STEPS, TEST_N, THRESHOLD = 100, 10, 100, 0.005, 10_000, 1000, 1e-3
STEP_WIDTH, WARMUP, TIMED_STEPS, SEED = 1000, 50, 1000, 0
# Must match TeacherStudentSweep.figure3Widths (Sources/Overparam/MeanField/TeacherStudentSweep.swift).
WIDTHS = list(range(1, 31)) + [40, 50, 70, 100]
FULL_REPETITIONS = 30
PINS = {
    "numpy": {"numpy": "1.26.4"},
    "jax": {"numpy": "1.26.4", "jax": "0.4.25", "jaxlib": "0.4.25"},
    "torch": {"numpy": "1.26.4", "torch": "2.13.0+cpu"},
}


def keep_large_allocations_in_heap():
    """glibc mallopt(M_MMAP_THRESHOLD, 1 GiB) and mallopt(M_TRIM_THRESHOLD, 1 GiB), the setting overparam's CLI
    makes at start (Parallel.keepLargeAllocationsInHeap). Without it every 800 KB temporary of a step (B x m at
    m = 1000) is a fresh mmap and its pages fault in again: measured here, NumPy's step took 4.7 ms instead of 1.9.
    Called at import, so spawned workers get it too."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)   # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


keep_large_allocations_in_heap()


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


def unit_rows(z):
    return z / (z ** 2).sum(axis=1, keepdims=True) ** 0.5


def _fold(words):
    """One integer seed from a list of small integers (torch and jax take a single seed)."""
    s = 0
    for w in words:
        s = (s * 1_000_003 + w) % (2 ** 63)
    return s


# --------------------------------------------------------------------------------------------- numpy

class NumpyBackend:
    def __init__(self, opts):
        import numpy as np
        self.np = np

    def teacher(self, words):
        """Repetition r's teacher (a, b), its test set (X, Y) and its batch sampler."""
        np = self.np
        rng = np.random.default_rng(words)
        a = np.where(rng.random(M0) < 0.5, 1.0, -1.0)
        b = unit_rows(rng.standard_normal((M0, D)))
        X = rng.standard_normal((TEST_N, D))
        test = (X, np.maximum(X @ b.T, 0.0) @ a)
        batches = np.random.default_rng(words + [1])
        bT = b.T

        def sample():
            Xb = batches.standard_normal((BATCH, D))
            return Xb, np.maximum(Xb @ bT, 0.0) @ a
        return sample, test

    def student(self, m, words):
        np = self.np
        rng = np.random.default_rng(words)
        return [m, np.where(rng.random(m) < 0.5, 1.0, -1.0), unit_rows(rng.standard_normal((m, D)))]

    def step(self, st, X, Y):
        np = self.np
        m, t2, T1 = st
        Z = X @ T1.T
        S = np.maximum(Z, 0.0)
        g = (S @ t2) * (1.0 / m)
        g -= Y
        g *= 1.0 / BATCH
        grad2 = g @ S
        P = np.multiply.outer(g, t2)
        P *= Z > 0.0
        T1 -= (GAMMA * BATCH) * (P.T @ X)
        t2 -= GAMMA * grad2

    def risk(self, st, test):
        np = self.np
        m, t2, T1 = st
        X, Y = test
        h = np.maximum(X @ T1.T, 0.0) @ t2 / m
        return 0.5 * float(np.mean((h - Y) ** 2))

    def finish(self, students):
        pass


# --------------------------------------------------------------------------------------------- torch

class TorchBackend:
    def __init__(self, opts):
        import torch
        self.torch = torch
        torch.set_default_dtype(torch.float64)
        self.mode = opts.torch_mode

    def teacher(self, words):
        torch = self.torch
        g = torch.Generator().manual_seed(_fold(words))
        a = torch.where(torch.rand(M0, generator=g) < 0.5, 1.0, -1.0)
        b = unit_rows(torch.randn(M0, D, generator=g))
        X = torch.randn(TEST_N, D, generator=g)
        test = (X, torch.relu(X @ b.T) @ a)
        gb = torch.Generator().manual_seed(_fold(words + [1]))
        bT = b.T

        def sample():
            Xb = torch.randn(BATCH, D, generator=gb)
            return Xb, torch.relu(Xb @ bT) @ a
        return sample, test

    def student(self, m, words):
        torch = self.torch
        g = torch.Generator().manual_seed(_fold(words))
        t2 = torch.where(torch.rand(m, generator=g) < 0.5, 1.0, -1.0)
        T1 = unit_rows(torch.randn(m, D, generator=g))
        if self.mode == "autograd":
            t2.requires_grad_(True)
            T1.requires_grad_(True)
            opt = torch.optim.SGD([{"params": [t2], "lr": GAMMA * m},
                                   {"params": [T1], "lr": GAMMA * m * BATCH}], lr=GAMMA)
            return [m, t2, T1, opt]
        return [m, t2, T1, None]

    def step(self, st, X, Y):
        torch = self.torch
        m, t2, T1, opt = st
        if opt is not None:
            opt.zero_grad()
            h = torch.relu(X @ T1.T) @ t2 * (1.0 / m)
            loss = 0.5 * ((h - Y) ** 2).mean()
            loss.backward()
            opt.step()
            return
        with torch.no_grad():
            Z = X @ T1.T
            S = torch.relu(Z)
            g = (S @ t2) * (1.0 / m)
            g -= Y
            g *= 1.0 / BATCH
            grad2 = g @ S
            P = torch.outer(g, t2)
            P *= Z > 0.0
            T1.sub_(P.T @ X, alpha=GAMMA * BATCH)
            t2.sub_(grad2, alpha=GAMMA)

    def risk(self, st, test):
        torch = self.torch
        m, t2, T1, _ = st
        X, Y = test
        with torch.no_grad():
            h = torch.relu(X @ T1.T) @ t2 / m
            return 0.5 * float(((h - Y) ** 2).mean())

    def finish(self, students):
        pass


# --------------------------------------------------------------------------------------------- jax

class JaxBackend:
    """The batch sampler and all students of a task live in one jitted function (compiled once per tuple of widths)."""

    def __init__(self, opts):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.jax, self.jnp = jax, jnp
        self.loop = opts.jax_loop
        self.cache = {}
        self.compile_seconds = 0.0

    def teacher(self, words):
        """Initial values on the host with numpy (eager jax.random calls compile once per new shape, seconds for
        34 widths: not what is being measured); the batches are sampled by jax.random inside the jitted step."""
        import numpy as np
        rng = np.random.default_rng(words)
        a = np.where(rng.random(M0) < 0.5, 1.0, -1.0)
        b = unit_rows(rng.standard_normal((M0, D)))
        X = rng.standard_normal((TEST_N, D))
        key = self.jax.random.PRNGKey(_fold(words + [1]))
        return (self.jnp.asarray(a), self.jnp.asarray(b), key), (X, np.maximum(X @ b.T, 0.0) @ a)

    def student(self, m, words):
        import numpy as np
        rng = np.random.default_rng(words)
        return (self.jnp.asarray(np.where(rng.random(m) < 0.5, 1.0, -1.0)),
                self.jnp.asarray(unit_rows(rng.standard_normal((m, D)))))

    def compiled(self, students, key, a, b):
        """The jitted step (or fori run) for this tuple of widths, compiled ahead of time on first use; the
        compilation time is added to self.compile_seconds."""
        widths = tuple(int(t2.shape[0]) for t2, _ in students)
        if widths in self.cache:
            return self.cache[widths]
        jax, jnp = self.jax, self.jnp

        def loss(params, X, Y):
            t2, T1 = params
            h = jax.nn.relu(X @ T1.T) @ t2 / t2.shape[0]
            return 0.5 * jnp.mean((h - Y) ** 2)

        grad = jax.grad(loss)

        def step(students, key, a, b):
            key, sub = jax.random.split(key)
            X = jax.random.normal(sub, (BATCH, D), dtype=jnp.float64)
            Y = jax.nn.relu(X @ b.T) @ a
            new = []
            for t2, T1 in students:
                m = t2.shape[0]
                g2, g1 = grad((t2, T1), X, Y)
                # grad of the batch loss carries 1/m: the particle step is gamma m grad (theta1: gamma m B grad).
                new.append((t2 - GAMMA * m * g2, T1 - GAMMA * m * BATCH * g1))
            return tuple(new), key

        t0 = time.perf_counter()
        if self.loop == "fori":
            def run(students, key, a, b, steps):
                return jax.lax.fori_loop(0, steps, lambda _, c: step(c[0], c[1], a, b), (students, key))
            fn = jax.jit(run).lower(students, key, a, b, jnp.asarray(1)).compile()
        else:
            fn = jax.jit(step).lower(students, key, a, b).compile()
        self.compile_seconds += time.perf_counter() - t0
        self.cache[widths] = fn
        return fn

    def train(self, teacher, students, steps):
        a, b, key = teacher
        students = tuple(students)
        fn = self.compiled(students, key, a, b)
        if self.loop == "fori":
            students, key = fn(students, key, a, b, self.jnp.asarray(steps))
        else:
            for _ in range(steps):
                students, key = fn(students, key, a, b)
        self.jax.block_until_ready(students)
        return list(students), (a, b, key)

    def risk(self, st, test):
        """On the host with numpy (not timed as JAX work; avoids one compilation per width)."""
        import numpy as np
        t2, T1 = (np.asarray(v) for v in st)
        X, Y = (np.asarray(v) for v in test)
        h = np.maximum(X @ T1.T, 0.0) @ t2 / t2.shape[0]
        return 0.5 * float(np.mean((h - Y) ** 2))


BACKENDS = {"numpy": NumpyBackend, "torch": TorchBackend, "jax": JaxBackend}
_BACKENDS = {}


def train(backend, teacher, students, steps):
    """`steps` lockstep steps: one fresh batch per step, every student steps on it. Returns the new state."""
    if isinstance(backend, JaxBackend):
        return backend.train(teacher, students, steps)
    sample, step = teacher, backend.step
    for _ in range(steps):
        X, Y = sample()
        for st in students:
            step(st, X, Y)
    return students, teacher


# --------------------------------------------------------------------------------------------- driver

def bench_step(framework, opts):
    backend = BACKENDS[framework](opts)
    teacher, _ = backend.teacher([SEED, 0, 0])
    students = [backend.student(STEP_WIDTH, [SEED, STEP_WIDTH, 0])]
    students, teacher = train(backend, teacher, students, WARMUP)
    best = math.inf
    for _ in range(opts.repeats):
        t0 = time.perf_counter()
        students, teacher = train(backend, teacher, students, TIMED_STEPS)
        best = min(best, (time.perf_counter() - t0) / TIMED_STEPS)
    return best


def run_repetition(task):
    """(framework, opts, r) -> [(m, r, test risk)]: repetition r's students of every width in WIDTHS, trained in
    lockstep on its shared batches (the same design as TeacherStudentSweep.runAll)."""
    framework, opts, r = task
    if opts.processes > 1 and framework == "torch":
        import torch
        torch.set_num_threads(1)
    # One backend per process, so that JAX compiles once per process, not once per repetition.
    backend = _BACKENDS.get(framework) or _BACKENDS.setdefault(framework, BACKENDS[framework](opts))
    compiled_before = getattr(backend, "compile_seconds", 0.0)
    teacher, test = backend.teacher([SEED, 0, r])
    students = [backend.student(m, [SEED, m, r]) for m in WIDTHS]
    students, _ = train(backend, teacher, students, opts.steps)
    out = []
    for m, st in zip(WIDTHS, students):
        risk = backend.risk(st, test)
        out.append((m, r, risk if math.isfinite(risk) else math.inf))
    return out, getattr(backend, "compile_seconds", 0.0) - compiled_before


def bench_sweep(framework, opts):
    tasks = [(framework, opts, r) for r in range(opts.repetitions)]
    t0 = time.perf_counter()
    if opts.processes > 1:
        import multiprocessing as mp
        with mp.get_context("spawn").Pool(opts.processes) as pool:
            results = pool.map(run_repetition, tasks, chunksize=1)
    else:
        results = [run_repetition(t) for t in tasks]
    seconds = time.perf_counter() - t0
    # JAX compiles once per task; tasks run on `processes` workers side by side, so about this much of the wall
    # time was compilation (not spread over repetitions when extrapolating to the full sweep).
    compile_wall = sum(c for _, c in results) / min(opts.processes, len(results))
    return seconds, compile_wall, [x for rep, _ in results for x in rep]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--framework", required=True, choices=["numpy", "torch", "jax"])
    ap.add_argument("--csv", action="store_true", help="print only 'workload,seconds,' lines")
    ap.add_argument("--only", choices=["sgd-step", "sweep"], help="run one workload")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of sgd-step; the best is reported (default 3)")
    ap.add_argument("--repetitions", type=int, default=FULL_REPETITIONS,
                    help=f"repetitions R of the sweep (1...{FULL_REPETITIONS}; default {FULL_REPETITIONS})")
    ap.add_argument("--steps", type=int, default=STEPS,
                    help=f"SGD steps per run of the sweep (default {STEPS}, the paper's and ours; change only for smoke tests)")
    ap.add_argument("--processes", type=int, default=1, help="worker processes for the sweep (default 1: in order)")
    ap.add_argument("--torch-mode", choices=["manual", "autograd"], default="manual",
                    help="torch only: hand-written gradients (default) or loss.backward()")
    ap.add_argument("--jax-loop", choices=["step", "fori"], default="step",
                    help="jax only: a jitted step called from Python (default) or all steps in one jitted fori_loop")
    opts = ap.parse_args(argv)
    if opts.repeats < 1:
        ap.error("--repeats must be >= 1")
    if not 1 <= opts.repetitions <= FULL_REPETITIONS:
        ap.error(f"--repetitions must be in 1...{FULL_REPETITIONS}")
    if opts.steps < 0:
        ap.error("--steps must be >= 0")
    if opts.processes < 1:
        ap.error("--processes must be >= 1")
    if opts.processes > 1 and opts.framework == "numpy":
        # Set before numpy is imported (spawned workers inherit the environment).
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[v] = "1"

    try:
        __import__(opts.framework)
    except ImportError as e:
        venv, setup = ((".venv-torch", "setup-torch.sh") if opts.framework == "torch"
                       else (".venv-peers", "setup.sh"))
        sys.exit(f"meanfield_sgd.py: cannot import {opts.framework} ({e}); run with {venv}/bin/python "
                 f"(created by bench/peers/{setup})")
    versions = check_pins(opts.framework)
    names = [opts.only] if opts.only else ["sgd-step", "sweep"]
    if not opts.csv:
        extra = ""
        if opts.framework == "torch":
            import torch
            extra = f", {torch.get_num_threads()} threads, {opts.torch_mode}"
        elif opts.framework == "jax":
            import jax
            jax.config.update("jax_enable_x64", True)
            extra = f", backend {jax.default_backend()}, jax-loop {opts.jax_loop}"
        print(f"{opts.framework}: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + f"{extra}; float64, "
              f"d = {D}, m0 = {M0}, batch {BATCH} fresh, gamma = {GAMMA}, theta1 gradient summed over the batch")
    for name in names:
        if name == "sgd-step":
            sec = bench_step(opts.framework, opts)
            if opts.csv:
                print(f"sgd-step,{sec:.6g},", flush=True)
            else:
                print(f"sgd-step   {sec:.3e} s/step  {1 / sec:.0f} steps/s  (m = {STEP_WIDTH}, best of {opts.repeats} "
                      f"x {TIMED_STEPS} steps after {WARMUP} warm-up)", flush=True)
        else:
            sec, compile_wall, results = bench_sweep(opts.framework, opts)
            if opts.csv:
                print(f"sweep,{sec:.6g},", flush=True)
            else:
                R = opts.repetitions
                succ = {m: 0 for m in WIDTHS}
                for m, _, risk in results:
                    succ[m] += risk < THRESHOLD
                full = compile_wall + (sec - compile_wall) * FULL_REPETITIONS / R
                scale = ("the full sweep" if R == FULL_REPETITIONS else
                         f"{R} of {FULL_REPETITIONS} repetitions; full sweep about {full:.0f} s "
                         f"(x {FULL_REPETITIONS}/{R}{', compilation once' if compile_wall else ''}, runs are independent)")
                if compile_wall:
                    scale += f"; about {compile_wall:.1f} s of it compiling"
                print(f"sweep      {sec:.1f} s  ({scale}; {len(WIDTHS)} widths x {opts.steps} steps, {len(results)} runs, "
                      f"{opts.processes} process(es); {sum(succ.values())} succeeded)", flush=True)
                print("  successes per width: " + " ".join(f"{m}:{succ[m]}" for m in WIDTHS), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
