"""The generated straight-line programs (pathad.adjoint_source) against the compiled tape, on small graphs.

Run:  python benchmarks/bench_source.py [--repeat 7] [--sizes 50 500] [--batch 100] [--no-numba]

For the lecture's h(x, y) and random programs of about ``--sizes`` nodes
(+, −, ·, sin, tanh over 6 inputs, each operand any earlier value, then the
sum of all the values), one row each:

* ``write``: adjoint_source(tr), writing the text and compiling it (ms);
* ``function``: the generated function called on floats (µs), and ``call``:
  the same through the program object (arguments checked, results checked
  finite, the gradient as a dict);
* ``tape``: ``pathad.compile(tr).gradient(at=point)``, one point, plan built
  (µs), and how many times the generated call is faster;
* ``batch``: ``tape.gradient(at=points)`` at ``--batch`` points at once per
  point (µs) against the generated call in a loop (per point);
* ``numba``: ``numba.njit`` of the generated function, when numba is there
  (the first call's compile in ms, then one call in µs), or why it cannot.

Every answer is checked against ``pathad.gradient`` of a fresh trace.
"""

import argparse
import random
import statistics
import sys
import time
import types
import warnings

import numpy as np

import pathad
from pathad.compiled import numba_available


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def random_program(nodes, inputs=6, seed=0):
    """A straight-line program of about ``nodes`` nodes over ``inputs`` inputs: (nodes - inputs) / 2 random
    operations (values bounded), then the sum of every value, so that every node is on a path to the result."""
    operations = max(1, (nodes - inputs) // 2)
    rng = random.Random(seed)
    plan = [(rng.choice(("add", "sub", "mul", "sin", "tanh")), rng.random(), rng.random()) for _ in range(operations)]

    k = inputs

    def program(*xs):
        values = list(xs)
        for op, i, j in plan:
            a, b = values[int(i * len(values))], values[int(j * len(values))]
            if op == "add":
                values.append((a + b) * 0.5)
            elif op == "sub":
                values.append(a - b)
            elif op == "mul":
                values.append(pathad.tanh(a * b))
            else:
                values.append(getattr(pathad, op)(a))
        total = values[k]
        for v in values[k + 1 :]:  # every operation reaches the result
            total = total + v
        return total

    return program, inputs


def best(f, repeat, number):
    """The median over ``repeat`` runs of the time of one call (s), each run ``number`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            f()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def numba_column(program, point, repeat):
    if not numba_available():
        return "not installed"
    import numba

    namespace = {}
    exec(compile(program.source, "<bench_source>", "exec"), namespace)  # the program's text, once more
    name = program.function.__name__
    for key, value in list(namespace.items()):  # the table's float functions it calls, compiled too
        if isinstance(value, types.FunctionType) and key != name:
            namespace[key] = numba.njit(value)
    try:
        jitted = numba.njit(namespace[name])
        start = time.perf_counter()
        jitted(*point)
        first = time.perf_counter() - start
    except Exception as exc:  # what numba cannot compile: say why, in a word
        return f"cannot: {type(exc).__name__}"
    call = best(lambda: jitted(*point), repeat, 2000)
    return f"{first * 1e3:.0f} ms, then {call * 1e6:.2f} µs"


def row(name, f, k, repeat, batch, use_numba):
    rng = np.random.default_rng(1)
    point = [float(v) for v in rng.uniform(-1, 1, size=k)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = pathad.trace(f, *point)
    start = time.perf_counter()
    program = pathad.adjoint_source(tr)
    write = time.perf_counter() - start
    other = [float(v) for v in rng.uniform(-1, 1, size=k)]
    again = pathad.gradient(pathad.trace(f, *other))
    value, gradient = program(*other)
    if gradient != again:
        sys.exit(f"{name}: the generated program gives {gradient}, tracing and sweeping {again}")
    tape = pathad.compile(tr)
    at = np.array(other)
    compiled = tape.gradient(at=at)
    if any(abs(compiled[key] - again[key]) > 1e-12 * (1 + abs(again[key])) for key in again):
        sys.exit(f"{name}: the compiled tape gives {compiled}, tracing and sweeping {again}")
    number = max(1, 20000 // len(tr.tape.ops))
    function = best(lambda: program.function(*other), repeat, number)
    call = best(lambda: program(*other), repeat, number)
    one = best(lambda: tape.gradient(at=at), repeat, max(1, number // 4))
    points = rng.uniform(-1, 1, size=(k, batch))
    columns = [[float(v) for v in points[:, b]] for b in range(batch)]
    tape.gradient(at=points)
    batched = best(lambda: tape.gradient(at=points), repeat, max(1, number // batch)) / batch
    looped = best(lambda: [program(*c) for c in columns], repeat, max(1, number // batch)) / batch
    jit = numba_column(program, other, repeat) if use_numba else "skipped"
    return (f"{name:<10} {len(tr.tape.ops):>5} {len(tr.tape.src):>5} {write * 1e3:>8.1f} {function * 1e6:>9.2f} "
            f"{call * 1e6:>8.2f} {one * 1e6:>8.2f} {one / call:>7.1f}x {batched * 1e6:>8.2f} {looped * 1e6:>8.2f} "
            f"{batched / looped:>7.2f}x  {jit}")  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--no-numba", action="store_true", help="leave out the numba column")
    args = parser.parse_args(argv)
    print(f"backend of the compiled tape at one point: {'numba' if numba_available() else 'numpy'}")
    print(f"{'program':<10} {'nodes':>5} {'edges':>5} {'write ms':>8} {'function':>9} {'call µs':>8} {'tape µs':>8} "
          f"{'tape/call':>8} {'batch µs':>8} {'loop µs':>8} {'batch/loop':>8}  numba")  # fmt: skip
    print(row("h", h, 2, args.repeat, args.batch, not args.no_numba))
    for size in args.sizes:
        program, k = random_program(size)
        print(row(f"random {size}", program, k, args.repeat, args.batch, not args.no_numba))
    print("function, call, tape: µs per gradient at one point; batch: tape.gradient at --batch points, per point;")
    print("loop: the generated call per point; tape/call > 1, batch/loop > 1: the generated program is faster")


if __name__ == "__main__":
    main()
