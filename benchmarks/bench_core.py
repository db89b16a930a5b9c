"""Trace + gradient cost of pathad against micrograd: the lecture's h, then chains and random DAGs.

Run:  python benchmarks/bench_core.py [--sizes 1000 10000 100000 1000000] [--rounds 5] [--no-memory]

Every contestant runs with the garbage collector disabled (micrograd's closures
make reference cycles, so a collection runs between rounds, outside the clock);
the two libraries take turns, round after round, and each number is the median
over the rounds.  The clock is the process's CPU time (``--clock wall`` for
``time.perf_counter``): on a shared machine it counts what the run itself costs.

* ``h``: ``pathad.gradient(pathad.trace(h, x=3.0, y=5.0))`` for the lecture's
  h(x, y) = (x + 4y)·((x + y)·y), against micrograd's build of the same
  expression plus ``backward()``: µs per call.
* ``chain`` and ``dag``: a random straight-line program on two inputs; each step
  combines two recent values a, b as (a + b)/2, (1 − a·b)/2 or (relu(a) − b)/2
  (operations micrograd has): each maps [−1, 1]² into [−1, 1], so no size
  overflows and few values are 0.  In a chain
  every step uses the value just computed (and the one before it); in a DAG any
  two of the 16 most recent values, with shared subexpressions.  Columns:
  pathad's trace and gradient µs per program step, both libraries' total
  (trace + gradient, build + backward) and their ratio, and the memory the
  result still holds afterwards, in bytes per step (tracemalloc, separate run:
  the trace after ``gradient``, micrograd's graph after ``backward``).
"""

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc

import pathad

try:
    from micrograd.engine import Value
except ImportError:  # pragma: no cover - benchmark-only dependency
    sys.exit('micrograd is needed: pip install -e ".[bench]"')

sys.setrecursionlimit(10_000_000)  # micrograd's topological sort is recursive


def h(x, y):
    """The lecture's running example."""
    return (x + 4 * y) * ((x + y) * y)


def make_program(n_ops, window, seed=0):
    """A list of (op, i, j): value k = op(value i, value j) over the ``window`` most recent values."""
    rng = random.Random(seed)
    program = []
    for k in range(2, n_ops + 2):
        op = rng.choice(("average", "mul", "relu"))
        i = k - 1 if window <= 2 else k - 1 - rng.randrange(min(k, window))
        j = k - 1 - rng.randrange(min(k, window))
        program.append((op, i, j))
    return program


def run(program, x, y, relu):
    """Evaluate ``program`` on the two inputs with the given relu function."""
    values = [x, y]
    for op, i, j in program:
        a, b = values[i], values[j]
        if op == "average":
            values.append((a + b) * 0.5)
        elif op == "mul":  # (1 - a·b)/2, not a·b: products of numbers below 1 would underflow to 0 in a few
            values.append((1.0 - a * b) * 0.5)  # hundred steps; every step maps [-1, 1]² into [-1, 1]
        else:  # and relu(a) alone would leave most values 0
            values.append((relu(a) - b) * 0.5)
    return values[-1]


def pathad_h(_):
    return pathad.gradient(pathad.trace(h, x=3.0, y=5.0))


def micrograd_h(_):
    x, y = Value(3.0), Value(5.0)
    out = h(x, y)
    out.backward()
    return x.grad, y.grad


def pathad_trace(program):
    return pathad.trace(lambda x, y: run(program, x, y, pathad.relu), 0.3, -0.7)


def micrograd_build(program):
    x, y = Value(0.3), Value(-0.7)
    return run(program, x, y, Value.relu), x, y


clock = time.process_time


def rounds_h(calls, rounds):
    """Median µs per call of each contestant, alternating."""
    times = {"pathad": [], "micrograd": []}
    for _ in range(rounds):
        for name, fn in (("pathad", pathad_h), ("micrograd", micrograd_h)):
            start = clock()
            for i in range(calls):
                fn(i)
            times[name].append((clock() - start) / calls * 1e6)
            gc.collect()
    return {name: statistics.median(ts) for name, ts in times.items()}


def rounds_program(program, rounds):
    """Median seconds: pathad's trace, its gradient, and micrograd's build + backward, alternating."""
    traces, grads, totals, minis = [], [], [], []
    for _ in range(rounds):
        start = clock()
        tr = pathad_trace(program)
        middle = clock()
        pathad.gradient(tr)
        end = clock()
        traces.append(middle - start)
        grads.append(end - middle)
        totals.append(end - start)
        del tr
        gc.collect()
        start = clock()
        out, _, _ = micrograd_build(program)
        out.backward()
        minis.append(clock() - start)
        del out
        gc.collect()
    return tuple(statistics.median(ts) for ts in (traces, grads, totals, minis))


def held_bytes(program):
    """Bytes still held by the result after the gradient: pathad's trace, micrograd's graph."""
    held = {}
    for name in ("pathad", "micrograd"):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        if name == "pathad":
            kept = pathad_trace(program)
            pathad.gradient(kept)
        else:
            kept = micrograd_build(program)
            kept[0].backward()
        held[name] = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        del kept
        gc.collect()
    return held


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--rounds", "--repeat", type=int, default=5, dest="rounds")
    parser.add_argument("--calls", type=int, default=2000, help="calls per round for h")
    parser.add_argument("--shapes", nargs="+", default=["chain", "dag"], choices=["chain", "dag"])
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    gc.disable()
    print(f"gc off, median of {args.rounds} alternated rounds, {args.clock} time")
    h_times = rounds_h(args.calls, args.rounds)
    print(
        f"h: trace + gradient {h_times['pathad']:.1f} µs, micrograd {h_times['micrograd']:.1f} µs, "
        f"ratio {h_times['pathad'] / h_times['micrograd']:.2f}",
        flush=True,
    )
    print(
        f"{'shape':>5} {'ops':>9} | {'pathad µs/op':>14} | {'trace+gradient µs/op':>22} | {'held B/op':>15}\n"
        f"{'':>5} {'':>9} | {'trace':>6} {'grad':>7} | {'pathad':>7} {'mgrad':>7} {'ratio':>6} | "
        f"{'pathad':>7} {'mgrad':>7}"
    )
    for shape in args.shapes:
        for n in args.sizes:
            program = make_program(n, 2 if shape == "chain" else 16)
            rounds = args.rounds if n < 1_000_000 else max(3, args.rounds // 2)
            t_trace, t_grad, total, mini = rounds_program(program, rounds)
            if args.no_memory:
                held = {"pathad": float("nan"), "micrograd": float("nan")}
            else:
                held = held_bytes(program)
            print(
                f"{shape:>5} {n:>9} | {t_trace / n * 1e6:>6.2f} {t_grad / n * 1e6:>7.2f} | "
                f"{total / n * 1e6:>7.2f} {mini / n * 1e6:>7.2f} {total / mini:>6.2f} | "
                f"{held['pathad'] / n:>7.0f} {held['micrograd'] / n:>7.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
