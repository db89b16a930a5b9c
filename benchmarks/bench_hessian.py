"""Hessians (issue 14, item 6): pathad traced and compiled against jax.jit(jax.hessian) and CasADi's hessian.

Run:  python benchmarks/bench_hessian.py [--quick] [--rounds 7] [--budget 0.2] [--dense-n 20] [--n 200]
                                        [--batch 100] [--backends numba numpy] [--no-jit] [--no-batch]

Two scalar functions, each written once (:func:`dense`, :func:`rosenbrock`) against bench_jacobian.py's math
namespaces (plus ``log``), so that pathad's traced arrays, jax.numpy and CasADi's SX/MX symbols run the same
expressions (the same constants, the same operations in the same order):

* ``dense 20`` (``--dense-n``): log Σ exp(M x) + ½ x·(Q x) + sin(x·x), M a random 8×20 map, Q a random
  symmetric 20×20 matrix: every pair of inputs meets, a dense Hessian (20 HVPs, no colouring helps);
* ``rosenbrock 200`` (``--n``): the extended Rosenbrock Σ_i 100(x_{i+1} − x_i²)² + (1 − x_i)², written with
  ``**`` as a numpy or JAX user writes it: a tridiagonal Hessian, 3 colour classes.

Contestants, each giving the Hessian at a point the trace was not made at:

* pathad trace + hessian: ``pathad.hessian(pathad.trace(f, x))`` per call (mode "auto": a user
  differentiating at a new point without compiling), and ``pathad.hessian`` alone on an existing trace in
  every mode of ``pathad.second.HESSIAN_MODES``;
* pathad compiled: ``pathad.compile(trace at another point, backend=...)`` once, then ``tape.hessian(at=x)``
  (mode "auto"), for each ``--backends``, warmed up (numba compiles its kernels on the first call);
* ``jax.jit(jax.hessian(f))`` (forward over reverse: n HVPs, vmapped; x64, CPU, one thread), called on the
  numpy point and ``block_until_ready``;
* CasADi: ``casadi.Function("H", [x], casadi.hessian(f(x), x))`` (its outputs H and the gradient g) with SX
  (its virtual machine), MX, and SX jit-compiled to C (``"jit": True``, when a C compiler works; not with
  ``--quick``/``--no-jit``), called on the numpy point; its H is a sparse DM, and "casadi SX → ndarray" adds
  scattering its nonzeros into the dense numpy matrix pathad and JAX return.  CasADi's directions are read
  from its verbose log ("Star coloring completed: N directional derivatives needed"; "F forward and A
  reverse directions" of the gradient's Jacobian, forward over reverse): found when the expression is built,
  which every call then evaluates once.

Then the same Hessian at ``--batch`` points at once (every input differs between points), µs per point:
``tape.hessian(at=X)`` with X of shape (n, B), ``jax.jit(jax.vmap(jax.hessian(f)))`` on X.T, and the CasADi
SX Function's ``.map(B)`` on the (n, B) DM.

Every table is the median of ``--rounds`` alternated rounds (bench_jacobian.py's ``race``: the order rotates
each round, each measurement repeats a call for ≥ ``--budget`` seconds, one thread per library, the garbage
collector off while timing).  Before timing, every contestant's Hessian is compared with pathad's dense one on
the trace (the batched tables: with the first compiled backend's, itself checked at one point): a max abs diff
above 1e-10 marks it DIFFERENT (not timed) and the run exits with status 1.

"best peer" is the fastest of JAX and CasADi's SX and MX Functions (their virtual machines); CasADi's C jit
row is shown against it and has its own goal line.  Goals (issue 14): each compiled backend within 2× the
best peer, for both functions at one point (the batched per-point times get a goal line too), and the
Rosenbrock Hessian in ≤ 6 HVPs.  ``--quick`` (a 6-input dense function, a 12-long Rosenbrock, batch 4,
1 round, numpy backend, no CasADi jit) is what tests/test_benchmarks.py runs.
"""

import peers  # first: one thread per library, set before numpy or jax load

# isort: split

import argparse
import contextlib
import gc
import io
import os
import re
import sys
import time
from functools import cache

import bench_jacobian as bj  # its contestants, rounds, printing and CasADi helpers (it imports nothing heavy)
import numpy as np
from bench_jacobian import Contestant, by_name, casadi_dense, missing, ratio

import pathad

# --- the functions, once for every library ------------------------------------------------------------------------


class PathadMath(bj.PathadMath):
    log = pathad.log


def jax_math():
    class JaxMath(bj.jax_math()):
        log = peers.load("jax").numpy.log

    return JaxMath


def casadi_math():
    class CasadiMath(bj.casadi_math()):
        log = peers.load("casadi").log

    return CasadiMath


@cache
def dense_constants(n):
    """M (8, n) and a symmetric Q (n, n), the same for every library."""
    rng = np.random.default_rng(14)
    M = rng.uniform(-1, 1, (8, n))
    R = rng.uniform(-1, 1, (n, n))
    return M, (R + R.T) / 4


def dense(x, m):
    """n → 1: log-sum-exp of a linear map, a quadratic form and sin(x·x): every pair of inputs meets."""
    M, Q = dense_constants(x.shape[0])
    return m.log(m.sum(m.exp(m.matvec(M, x)))) + 0.5 * m.sum(x * m.matvec(Q, x)) + m.sin(m.sum(x * x))


def rosenbrock(x, m):
    """n → 1, the extended Rosenbrock function: a tridiagonal Hessian."""
    return m.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


# --- pathad ---------------------------------------------------------------------------------------------------------


def pathad_f(f):
    return lambda x: f(x, PathadMath)


def hvps(H):
    return f"{H.hvps} ({H.mode})"


def pathad_trace_contestants(f, x):
    """trace + hessian per call (auto), and hessian alone on a trace in every mode."""
    fp = pathad_f(f)
    tr = pathad.trace(fp, x)
    per_call = lambda: pathad.hessian(pathad.trace(fp, x))  # noqa: E731
    out = [Contestant("pathad trace + hessian, auto", per_call, lambda H: H.matrix, hvps)]
    for mode in pathad.second.HESSIAN_MODES:
        out.append(
            Contestant(
                f"pathad hessian on a trace, {mode}",
                lambda mode=mode: pathad.hessian(tr, mode=mode),
                lambda H: H.matrix,
                hvps,
            )
        )
    return out


def pathad_compiled(f, traced_at, x, backends):
    """One contestant per backend: ``tape.hessian(at=x)`` (x (n,) or a batch (n, B)), compiled beforehand."""
    calling = lambda tape: lambda: tape.hessian(at=x)  # noqa: E731
    return bj.compiled_contestants(pathad.trace(pathad_f(f), traced_at), backends, calling, lambda H: H.matrix, hvps)


# --- JAX ------------------------------------------------------------------------------------------------------------


def jax_contestant(f, x):
    jax = peers.load("jax")
    label = "jax.jit(hessian)" if x.ndim == 1 else "jax.jit(vmap(hessian))"
    if jax is None:
        return missing(label, "not installed")
    m = jax_math()
    hessian = jax.hessian(lambda v: f(v, m))
    if x.ndim == 1:
        function, point = jax.jit(hessian), x
    else:
        function, point = jax.jit(jax.vmap(hessian)), np.ascontiguousarray(x.T)
    return Contestant(
        label,
        lambda: function(point).block_until_ready(),
        np.asarray,
        f"{x.shape[0]} (fwd over rev, vmapped)",
    )


# --- CasADi ---------------------------------------------------------------------------------------------------------


def casadi_directions(log, n):
    """What CasADi's verbose log says of the Hessian's construction, or 'not reported'."""
    star = re.findall(r"Star coloring completed: (\d+) directional derivatives needed", log)
    found = re.findall(r"(\d+) sweeps? needed for (\d+) forward and (\d+) reverse directions", log)
    if not star and not found:
        return "not reported"
    parts = []
    if found:
        forward, reverse = sum(int(f) for _, f, _ in found), sum(int(r) for _, _, r in found)
        parts.append(f"{forward} fwd{f' + {reverse} adj' if reverse else ''} over rev")
    if star:
        parts.append(f"(star colouring {star[-1]}/{n})")
    return " ".join(parts)


def casadi_hessian(f, n, kind):
    """(symbol, [H, g], the directions its log reports) for SX or MX."""
    casadi = peers.load("casadi")
    x = getattr(casadi, kind).sym("x", n)
    y = f(x, casadi_math())
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        H, g = casadi.hessian(y, x, {"helper_options": {"verbose": True}})
    return x, [H, g], casadi_directions(log.getvalue(), n)


def casadi_contestants(f, x, jit):
    casadi = peers.load("casadi")
    names = ["casadi SX", "casadi SX → ndarray", "casadi MX", "casadi SX jit (C)"]
    if casadi is None:
        return [missing(name, "not installed") for name in names]
    n = x.shape[0]
    answer = lambda result: casadi_dense(result[0])  # noqa: E731 - the H of (H, g)
    out = []
    for kind in ("SX", "MX"):
        start = time.perf_counter()
        symbol, outputs, directions = casadi_hessian(f, n, kind)
        function = casadi.Function("H", [symbol], outputs)
        setup = time.perf_counter() - start
        out.append(Contestant(f"casadi {kind}", lambda function=function: function(x), answer, directions, setup=setup))
        if kind == "SX":
            rows, columns = outputs[0].sparsity().get_triplet()

            def dense_matrix(function=function, rows=rows, columns=columns):
                matrix = np.zeros((n, n))
                matrix[rows, columns] = function(x)[0].nonzeros()
                return matrix

            out.append(Contestant(names[1], dense_matrix, np.asarray, directions, setup=setup))
    if not jit:
        out.append(missing(names[3], "not run (--no-jit)"))
    elif not bj.c_compiler_works():
        out.append(missing(names[3], "no C compiler"))
    else:
        start = time.perf_counter()
        symbol, outputs, directions = casadi_hessian(f, n, "SX")
        with bj.jit_directory():
            function = casadi.Function("H", [symbol], outputs, bj.JIT_OPTIONS)
        setup = time.perf_counter() - start
        out.append(Contestant(names[3], lambda: function(x), answer, directions, setup=setup))
    return out


def casadi_map(f, X):
    """The SX Hessian Function's ``.map(B)`` on the (n, B) points: its H is (n, B·n), point by point."""
    casadi = peers.load("casadi")
    if casadi is None:
        return missing("casadi SX map", "not installed")
    n, batch = X.shape
    symbol, outputs, directions = casadi_hessian(f, n, "SX")
    function = casadi.Function("H", [symbol], outputs).map(batch)

    def answer(result):
        return casadi_dense(result[0]).reshape(n, batch, n).transpose(1, 0, 2)

    return Contestant("casadi SX map", lambda: function(X), answer, directions)


# --- the tables -----------------------------------------------------------------------------------------------------

PEERS = ("jax.jit(hessian)", "jax.jit(vmap(hessian))", "casadi SX", "casadi MX", "casadi SX map")


def best_peer(contestants):
    times = [c.median for c in contestants if c.name in PEERS and c.median is not None]
    return min(times) if times else None


GOALS = []  # (text, ok)


def compiled_goals(title, contestants, backends, best, jit=None, where=""):
    for backend in backends:
        c = by_name(contestants, f"pathad compiled {backend}")
        if c is None or c.median is None:
            continue
        r = ratio(c.median, best)
        if r is not None:
            GOALS.append((f"{title}{where}, pathad compiled {backend}: {r:.2f}× the best peer ≤ 2", r <= 2))
        if jit is not None and jit.median is not None:
            r = ratio(c.median, jit.median)
            GOALS.append((f"{title}{where}, pathad compiled {backend}: {r:.2f}× casadi SX jit (C) ≤ 2", r <= 2))
        if title.startswith("rosenbrock") and not where:
            GOALS.append((f"{title}, pathad compiled {backend}: {c.result.hvps} HVPs ≤ 6", c.result.hvps <= 6))


def one_point(args, title, f, n):
    rng = np.random.default_rng(n * 1000 + 14)
    traced_at, x = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    contestants = [
        *pathad_trace_contestants(f, x),
        *pathad_compiled(f, traced_at, x, args.backends),
        jax_contestant(f, x),
        *casadi_contestants(f, x, args.jit),
    ]
    reference = by_name(contestants, "pathad hessian on a trace, dense")
    rounds = bj.race(title, contestants, reference, args.rounds, args.budget)
    best = best_peer(contestants)
    notes = [bj.first_calls(contestants)]
    if rounds < args.rounds:
        notes.append(f"{rounds} rounds only (the time limit)")
    notes.append("HVPs of the colored mode: one per colour class (the pattern is structural, found without one)")
    print_rows = bj.table_rows(contestants, [best], lambda c: c is reference)
    bj.print_table(
        f"{title}: the Hessian at one point, µs per Hessian (median of {rounds} rounds)",
        ["contestant", "µs", "HVPs / directions", "× best peer", "max abs diff"],
        print_rows,
        [n for n in notes if n],
    )
    if title.startswith("rosenbrock"):
        c = by_name(contestants, "pathad trace + hessian, auto")
        if c is not None and c.result is not None:
            GOALS.append((f"{title}, pathad trace + hessian, auto: {c.result.hvps} HVPs ≤ 6", c.result.hvps <= 6))
    compiled_goals(title, contestants, args.backends, best, by_name(contestants, "casadi SX jit (C)"))


def batched(args, title, f, n):
    rng = np.random.default_rng(n * 1000 + 15)
    traced_at, X = rng.uniform(-1, 1, n), rng.uniform(-1, 1, (n, args.batch))
    contestants = [*pathad_compiled(f, traced_at, X, args.backends), jax_contestant(f, X), casadi_map(f, X)]
    reference = contestants[0]
    rounds = bj.race(f"{title} batch", contestants, reference, args.rounds, args.budget)
    best = best_peer(contestants)
    notes = [bj.first_calls(contestants)]
    bj.print_table(
        f"{title}: the Hessian at {args.batch} points at once, µs per point (median of {rounds} rounds); "
        f"the ratio is to the better of jax vmap and casadi SX map",
        ["contestant", "µs/point", "HVPs/point", "× best peer", "max abs diff"],
        bj.table_rows(contestants, [best], lambda c: c is reference, scale=args.batch),
        [n for n in notes if n],
    )
    compiled_goals(title, contestants, args.backends, best, where=f" at {args.batch} points")


# --- the run ----------------------------------------------------------------------------------------------------------

QUICK = {"rounds": 1, "budget": 0.002, "dense_n": 6, "n": 12, "batch": 4, "backends": ["numpy"], "jit": False}
FULL = {"rounds": 7, "budget": 0.2, "dense_n": 20, "n": 200, "batch": 100,
        "backends": ["numba", "numpy"] if bj.NUMBA else ["numpy"]}  # fmt: skip


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 and 12 inputs, batch 4, 1 round, numpy backend")
    parser.add_argument("--dense-n", type=int, help="the dense function's inputs (20)")
    parser.add_argument("--n", type=int, help="the Rosenbrock function's inputs (200)")
    return bj.parsed(parser, argv, QUICK, FULL)


def main(argv=None):
    args = parse(argv)
    bj.header(args)
    gc.disable()
    for title, f, n in ((f"dense {args.dense_n}", dense, args.dense_n), (f"rosenbrock {args.n}", rosenbrock, args.n)):
        start = time.perf_counter()
        one_point(args, title, f, n)
        if args.batched:
            batched(args, title, f, n)
        print(f"  ({title} took {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    gc.enable()
    gc.collect()  # the jit Functions go first: CasADi removes their files when they are freed
    for directory in bj.JIT_DIRECTORY:
        directory.cleanup()
    print("\ngoals:")
    for line, ok in GOALS:
        print(f"  {bj.mark(ok)} {line}")
    print(f"\nload average at the end: {' '.join(f'{a:.1f}' for a in os.getloadavg())}")
    if bj.DIFFERENT:
        print("\nDIFFERENT Hessians (max abs diff above 1e-10, not timed): "
              + "; ".join(f"{t}: {name} {d:.1e}" for t, name, d in bj.DIFFERENT))  # fmt: skip
        return 1
    print(f"every contestant's Hessian agrees with pathad's dense one on the trace to {bj.TOLERANCE:g} (max abs diff)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
