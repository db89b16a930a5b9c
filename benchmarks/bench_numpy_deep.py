"""Deep graphs replayed by the numpy backend, against re-tracing and against numba.

Run:  python benchmarks/bench_numpy_deep.py [--sizes 10000 100000 1000000] [--shapes chain sin dag]
                                            [--rounds 3] [--batch 100] [--no-numba] [--no-wide]
                                            [--no-batch] [--batch-below N]

Issue 12 part 4: the numpy backend is the readable fallback, not a trap.  One
replay of a 10⁶-op chain (``tape.gradient(x=...)``, numpy) took 34-38 s while
tracing again and differentiating took about 5 s.  The goals, checked here:

* a numpy replay is never slower than ``pathad.gradient(pathad.trace(f, ...))``,
  at one point and at a batch of ``--batch`` points (re-tracing a batch costs
  ``--batch`` traces: the one-point time times the batch size, not measured);
  the *first* replay of a tape (its plan built then) is held to that too;
* a numpy replay is within 20x of the numba backend's on deep graphs, at one
  point and at a batch (both after their first call: the plans built, numba's
  kernels loaded from its disk cache).

Programs, on two inputs x, y:

* ``chain``: the straight-line program of ``benchmarks/bench_core.py`` with a
  window of 2 (each step averages (a + b)·0.5, multiplies or relus the value
  just computed and the one before it);
* ``sin``: the issue's chain, ``x = sin(x) * 1.0001 + 0.1 * x`` repeated, times y at the end (four
  ops a step; every x feeds two nodes, so the backward sweep has a root per step);
* ``dag``: bench_core's random DAG, any two of the 16 most recent values.

Columns (seconds, medians over ``--rounds`` rounds in which the contestants
take turns): trace + gradient at one point; numpy's first replay of a fresh
tape and its replay again, at one point; numpy at a batch (first and again);
numba at one point and at a batch; then the goals, ✓ or ✗ with the ratio.
``--no-wide`` skips the last table: the wide graphs that must not get slower,
a replayed MLP training circuit (``pathad.training.Replay``, numpy) on a batch
and a random DAG of window 16, at one point and at a batch.
"""

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import pathad
from pathad.compiled import numba_available

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import make_program, run  # noqa: E402 - bench_core's random straight-line programs

sys.setrecursionlimit(100_000)


def straight_line(program):
    def f(x, y):
        return run(program, x, y, pathad.relu)

    return f


def sin_chain(n_ops):
    def f(x, y):
        for _ in range(max(1, n_ops // 4)):
            x = pathad.sin(x) * 1.0001 + 0.1 * x
        return x * y

    return f


def program_of(shape, n_ops):
    if shape == "sin":
        return sin_chain(n_ops)
    return straight_line(make_program(n_ops, 2 if shape == "chain" else 16))


def timed(fn):
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rounds_for(shape, n_ops, rounds, batch, numba, batched=True):
    """{column: median seconds} for one program, contestants alternating round after round."""
    f = program_of(shape, n_ops)
    point = (0.3, -0.7)
    rng = np.random.default_rng(0)
    xs, ys = 0.3 + 0.01 * rng.standard_normal(batch), -0.7 + 0.01 * rng.standard_normal(batch)
    tr = pathad.trace(f, *point)
    fast = pathad.compile(tr, backend="numba") if numba else None
    if fast is not None:  # plans built, kernels loaded: numba is timed warm
        fast.gradient(*point)
        if batched:
            fast.gradient(xs, ys)
    times = {}

    def add(name, seconds):
        times.setdefault(name, []).append(seconds)

    def fresh_numpy(at, again):
        """(first call, second call) of a freshly compiled numpy tape: its plans are built on the first."""
        tape = pathad.compile(tr, backend="numpy")
        return timed(lambda: tape.gradient(*at)), timed(lambda: tape.gradient(*again))

    for _ in range(rounds):
        add("trace+grad", timed(lambda: pathad.gradient(pathad.trace(f, *point))))
        first, again = fresh_numpy(point, (0.31, -0.69))
        add("np first", first)
        add("np again", again)
        if batched:
            first, again = fresh_numpy((xs, ys), (xs + 0.001, ys))
            add("np batch first", first)
            add("np batch again", again)
        if fast is not None:
            add("numba", timed(lambda: fast.gradient(0.31, -0.69)))
            if batched:
                add("numba batch", timed(lambda: fast.gradient(xs + 0.001, ys)))
    return {name: statistics.median(ts) for name, ts in times.items()}


def goal(ratio, limit):
    return f"{'✓' if ratio <= limit else '✗'} {ratio:6.2f}"


def deep_table(args, numba):
    head = (f"{'shape':>5} {'ops':>8} | {'trace+grad':>10} | {'np first':>8} {'np again':>8} | "
            f"{'b first':>8} {'b again':>8} | {'numba':>8} {'nb batch':>8} | "
            f"{'first/tg':>8} {'again/tg':>8} {'batch/tg':>8} {'np/numba':>8} {'b/numba':>8}")  # fmt: skip
    print(
        f"deep graphs, batch = {args.batch}; seconds; goals: x/tg <= 1 (tg: trace+grad, times {args.batch} "
        "for a batch), np/numba <= 20"
    )
    print(head)
    print("-" * len(head))
    for n_ops in args.sizes:
        for shape in args.shapes:
            rounds = args.rounds if n_ops < 1_000_000 else min(args.rounds, 2)
            batched = not args.no_batch and n_ops < args.batch_below
            t = rounds_for(shape, n_ops, rounds, args.batch, numba, batched)
            nan = float("nan")
            tg, tgb = t["trace+grad"], t["trace+grad"] * args.batch
            nb, nbb = t.get("numba", nan), t.get("numba batch", nan)
            for name in ("np batch first", "np batch again"):
                t.setdefault(name, nan)
            worst_batch = max(t["np batch first"], t["np batch again"]) / tgb
            ratios = (
                goal(t["np first"] / tg, 1),
                goal(t["np again"] / tg, 1),
                goal(worst_batch, 1) if batched else "       -",
                goal(t["np again"] / nb, 20) if numba else "       -",
                goal(t["np batch again"] / nbb, 20) if numba and batched else "       -",
            )
            print(f"{shape:>5} {n_ops:>8} | {tg:10.3f} | {t['np first']:8.3f} {t['np again']:8.3f} | "
                  f"{t['np batch first']:8.3f} {t['np batch again']:8.3f} | {nb:8.4f} {nbb:8.4f} | "
                  + " ".join(ratios), flush=True)  # fmt: skip


def wide_table(args):
    """Wide graphs that must not get slower: an MLP training circuit on a batch, a window-16 DAG."""
    from pathad.nn import MLP, Circuit, SoftmaxCrossEntropy
    from pathad.training import Replay

    print("\nwide graphs (numpy; must not get slower): seconds per call, median of rounds")
    circuit = Circuit(MLP([64, 32, 10], "tanh", output="linear"), SoftmaxCrossEntropy())
    rng = np.random.default_rng(0)
    X, V = rng.standard_normal((args.batch, 64)), np.eye(10)[rng.integers(0, 10, args.batch)]
    theta = circuit.init(0)
    start = time.perf_counter()
    replay = Replay(circuit, X[0], V[0], backend="numpy")
    replay(theta, X, V)
    first = time.perf_counter() - start
    again = statistics.median(timed(lambda: replay(theta, X, V)) for _ in range(max(3, args.rounds)))
    print(
        f"  MLP 64-32-10 training circuit ({replay.tape.n_nodes} nodes), batch {args.batch}: "
        f"trace + first call {first:.3f}, again {again:.4f}"
    )
    tr = pathad.trace(program_of("dag", 20_000), 0.3, -0.7)
    xs, ys = np.full(args.batch, 0.3), np.full(args.batch, -0.7)
    tape = pathad.compile(tr, backend="numpy")
    first = timed(lambda: tape.gradient(0.3, -0.7))
    one = statistics.median(timed(lambda: tape.gradient(0.31, -0.7)) for _ in range(max(3, args.rounds)))
    batch = statistics.median(timed(lambda: tape.gradient(xs, ys)) for _ in range(max(3, args.rounds)))
    print(
        f"  random DAG, window 16, 20000 ops ({tape.n_nodes} nodes): first {first:.3f}, one point {one:.4f}, "
        f"batch {args.batch} {batch:.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--shapes", nargs="+", default=["chain", "sin", "dag"], choices=["chain", "sin", "dag"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--no-numba", action="store_true")
    parser.add_argument("--no-batch", action="store_true", help="one point only")
    parser.add_argument("--batch-below", type=int, default=10**9, help="batch columns only for fewer ops")
    parser.add_argument("--no-wide", action="store_true")
    args = parser.parse_args()
    numba = numba_available() and not args.no_numba
    if numba:
        pathad.compiled.prepare()  # compile (once per machine) or load the kernels before any clock runs
    deep_table(args, numba)
    if not args.no_wide:
        wide_table(args)


if __name__ == "__main__":
    main()
