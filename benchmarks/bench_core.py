"""Tracing and backward-sweep cost of pathad against micrograd, on random programs.

Run:  python benchmarks/bench_core.py [--sizes 1000 10000 100000 1000000] [--repeat 3]

Both libraries run the same random straight-line program: each step combines
one or two of the 16 most recent values by averaging ((a + b)·0.5), multiplying
or relu (the operations micrograd has), so values stay in [-1, 1] and the graph
is a random DAG with shared subexpressions.  For each size the table gives the
median over ``--repeat`` runs of

* build µs/op (per program step): running the program on traced values (pathad: including the
  networkx graph; micrograd: its Value objects),
* backward µs/edge (per edge of pathad's graph, for both): one backward sweep from the output (pathad's generic
  :func:`pathad.solve`; micrograd's ``Value.backward``),
* peak MB: peak Python memory of build + backward (tracemalloc, separate run),

and the ratio pathad / micrograd.  Timings run with the garbage collector in its
default state, as a user's program would; ``--gc-off`` runs both with it off.
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


def make_program(n_ops, seed=0):
    """A list of (op, i, j): value k = op(value i, value j) over earlier values."""
    rng = random.Random(seed)
    program = []
    for k in range(2, n_ops + 2):
        op = rng.choice(("average", "mul", "relu"))
        i = k - 1 - rng.randrange(min(k, 16))
        j = k - 1 - rng.randrange(min(k, 16))
        program.append((op, i, j))
    return program


def run(program, x, y, relu):
    """Evaluate ``program`` on the two inputs with the given relu function."""
    values = [x, y]
    for op, i, j in program:
        a, b = values[i], values[j]
        if op == "average":
            values.append((a + b) * 0.5)
        elif op == "mul":
            values.append(a * b)
        else:
            values.append(relu(a))
    return values[-1]


def pathad_build(program):
    tr = pathad.trace(lambda x, y: run(program, x, y, pathad.relu), 0.3, -0.7)
    tr.graph  # noqa: B018 - building the networkx graph is part of the cost
    return tr


def pathad_backward(tr):
    return pathad.solve(tr.graph, tr.output, direction="backward")


def micrograd_build(program):
    return run(program, Value(0.3), Value(-0.7), Value.relu)


def micrograd_backward(out):
    out.backward()


def timed(fn, arg):
    start = time.perf_counter()
    result = fn(arg)
    return time.perf_counter() - start, result


def peak_mb(build, backward, program):
    tracemalloc.start()
    backward(build(program))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def measure(build, backward, program, repeat):
    builds, backs = [], []
    for _ in range(repeat):
        t_build, obj = timed(build, program)
        t_back, _ = timed(backward, obj)
        builds.append(t_build)
        backs.append(t_back)
        del obj
        gc.collect()
    return statistics.median(builds), statistics.median(backs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gc-off", action="store_true")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    if args.gc_off:
        gc.disable()
    header = (
        f"{'ops':>9} {'edges':>9} | {'build µs/op':>22} | {'backward µs/edge':>22} | {'peak MB':>17}\n"
        f"{'':>9} {'':>9} | {'pathad':>7} {'mgrad':>7} {'ratio':>6} | {'pathad':>7} {'mgrad':>7} "
        f"{'ratio':>6} | {'pathad':>7} {'mgrad':>7}"
    )
    print(f"gc {'off' if args.gc_off else 'on'}, median of {args.repeat}")
    print(header)
    for n in args.sizes:
        program = make_program(n)
        tr = pathad_build(program)
        edges = tr.graph.number_of_edges()
        del tr
        p_build, p_back = measure(pathad_build, pathad_backward, program, args.repeat)
        m_build, m_back = measure(micrograd_build, micrograd_backward, program, args.repeat)
        if args.no_memory:
            p_mem = m_mem = float("nan")
        else:
            p_mem = peak_mb(pathad_build, pathad_backward, program)
            m_mem = peak_mb(micrograd_build, micrograd_backward, program)
        print(
            f"{n:>9} {edges:>9} | {p_build / n * 1e6:>7.2f} {m_build / n * 1e6:>7.2f} "
            f"{p_build / m_build:>6.2f} | {p_back / edges * 1e6:>7.2f} {m_back / edges * 1e6:>7.2f} "
            f"{p_back / m_back:>6.2f} | {p_mem:>7.0f} {m_mem:>7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
