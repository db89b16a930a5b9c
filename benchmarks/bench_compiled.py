"""Compiled sweeps and replay (pathad.compiled) against the generic sweep, micrograd and PyTorch scalars.

Run:  python benchmarks/bench_compiled.py [--repeat 5] [--batch 1000] [--sizes 10000 100000 1000000]
                                         [--dag-edges 10000000] [--chain 1000000] [--no-torch]

One table, medians over ``--repeat`` runs (3 at most for the 10^6-edge program
and for the peers there; at least 51 for the compiled sweep and 201 for the
single-point replay, which take micro- to milliseconds), on programs that
micrograd can run too (+, ×, relu):

* ``layered-E``: a random layered program (each layer's values are averages
  (a+b)·0.5, products or relus of the previous layer's), then the sum of the last
  layer, with about E edges;
* ``loop-sum``: ``total = total + x_i·c_i`` for 800 inputs, squared: an 800-long chain;
* ``dense``: 16 neurons relu(Σ_i x_i·w_ji) over 800 inputs, summed: 16 chains of 800.

Columns: the compiled backward sweep (``tape.solve(out, direction="backward")``,
plan already built) in ms, and how many times slower the generic
:func:`pathad.solve`, micrograd's ``backward()`` and PyTorch's scalar
``backward()`` are; a full single-point replay ``tape.gradient`` (values,
partials and sweep) in ms and micrograd's backward divided by it; batched
replay (``--batch`` points at once) in µs per point, and re-tracing per point
(``trace`` + :func:`pathad.gradient`, graph included) divided by it.  Peers
run with the garbage collector in its default state, as a user's program would.

Then the size section: a ``--chain``-deep chain and a ``--dag-edges``-edge
random DAG, each a networkx graph built directly (no tracing), compiled and
solved; bytes per edge held by the compiled tape (arrays and sweep plans) and
the peak of Python/numpy allocations (tracemalloc) during compile + solve.
"""

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc

import networkx as nx
import numpy as np

import pathad
from pathad.compiled import compile as compile_tape
from pathad.compiled import numba_available

try:
    from micrograd.engine import Value
except ImportError:  # pragma: no cover - benchmark-only dependency
    sys.exit('micrograd is needed: pip install -e ".[bench]"')
try:
    import torch
except ImportError:  # pragma: no cover - optional peer
    torch = None

sys.setrecursionlimit(10_000_000)  # micrograd's topological sort is recursive


# --- the programs: plain Python over whatever numbers they are given ------------------


def layered(edges, seed=0):
    """A random layered program with about ``edges`` edges (2 per operation on average)."""
    width = max(10, int(round((edges / 2) ** 0.5 / 1.5)))
    layers = max(1, edges // (2 * width))
    rng = random.Random(seed)
    step = (lambda: (rng.choice("amr"), rng.randrange(width), rng.randrange(width)))  # noqa: E731
    plan = [[step() for _ in range(width)] for _ in range(layers)]

    def program(relu, *xs):
        values = xs
        for layer in plan:
            values = [(values[i] + values[j]) * 0.5 if op == "a" else values[i] * values[j] if op == "m"
                      else relu(values[i]) for op, i, j in layer]  # fmt: skip
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total

    return program, width


def loop_sum(n=800):
    coefficients = [(i % 7 - 3) / 3 for i in range(n)]

    def program(relu, *xs):
        total = 0.0
        for x, c in zip(xs, coefficients):
            total = total + x * c
        return total * total

    return program, n


def dense(neurons=16, n=800, seed=0):
    rng = random.Random(seed)
    weights = [[rng.uniform(-1, 1) / n**0.5 for _ in range(n)] for _ in range(neurons)]

    def program(relu, *xs):
        out = 0.0
        for row in weights:
            s = 0.0
            for x, w in zip(xs, row):
                s = s + x * w
            out = out + relu(s)
        return out

    return program, n


# --- timing -----------------------------------------------------------------------------


def median_time(fn, repeat, setup=None, args=(), kwargs=None):
    """Median seconds of ``fn(*args, **kwargs)``, or of ``fn(setup())`` with a fresh untimed setup each run."""
    times = []
    for _ in range(repeat):
        call_args = (setup(),) if setup else args
        start = time.perf_counter()
        fn(*call_args, **(kwargs or {}))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peer_backward(build, repeat):
    """Median backward time of a peer; each run builds its graph first (untimed)."""

    def backward(out):
        out.backward()

    result = median_time(backward, repeat, setup=build)
    gc.collect()
    return result


def measure(name, program, n_inputs, args):
    """The peers' times on one program, then one row per backend."""
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, n_inputs).tolist()
    big = name.startswith("layered") and int(name.split("-")[1]) >= 1_000_000
    repeat = min(args.repeat, 3) if big else args.repeat

    def traced(*xs):
        return program(pathad.relu, *xs)

    tr = pathad.trace(traced, *x0)
    peers = {"generic": median_time(pathad.solve, min(repeat, 3), args=(tr.graph, tr.output),
                                    kwargs={"direction": "backward"})}  # fmt: skip
    peers["mgrad"] = peer_backward(lambda: program(Value.relu, *[Value(x) for x in x0]), min(repeat, 3))
    peers["torch"] = float("nan")
    if torch is not None and not args.no_torch:
        peers["torch"] = peer_backward(
            lambda: program(torch.relu, *[torch.tensor(x, requires_grad=True) for x in x0]), min(repeat, 3)
        )
    peers["retrace"] = median_time(
        lambda: pathad.gradient(pathad.trace(traced, *rng.uniform(-1, 1, n_inputs))), min(repeat, 3)
    )
    points = rng.uniform(-1, 1, (n_inputs, args.batch))
    return [{"name": name, "backend": backend, **peers, **compiled_times(tr, x0, points, backend, repeat, big)}
            for backend in args.backends]  # fmt: skip


def compiled_times(tr, x0, points, backend, repeat, big):
    start = time.perf_counter()
    tape = compile_tape(tr, backend=backend)
    compile_ms = (time.perf_counter() - start) * 1e3
    out = tr.output
    start = time.perf_counter()
    tape.solve(out, direction="backward")  # builds the plan (and JIT-compiles numba's loops on first use)
    plan_ms = (time.perf_counter() - start) * 1e3
    sweep = median_time(lambda: tape.solve(out, direction="backward"), repeat if big else max(repeat, 51))
    x0 = np.asarray(x0, dtype=np.float64)
    tape.gradient(at=x0)  # builds the replay plan
    replay = median_time(lambda: tape.gradient(at=x0), repeat if big else max(repeat, 201))  # µs each: many runs
    tape.gradient(at=points[:, :2])  # numba compiles its batch loop on the first batch
    batched = median_time(lambda: tape.gradient(at=points), 1 if big else min(repeat, 3)) / points.shape[1]
    return {
        "edges": tape.n_edges, "levels": tape._plan(False).depth, "sweep": sweep, "replay": replay,
        "batched": batched, "compile_ms": compile_ms, "plan_ms": plan_ms,
    }  # fmt: skip


HEADER = (
    f"{'program':<15}{'backend':>8}{'edges':>9}{'levels':>7} | {'sweep ms':>9}{'generic×':>9}{'mgrad×':>8}"
    f"{'torch×':>8} | {'replay ms':>10}{'mgrad/rep':>10} | {'batch µs/pt':>12}{'retrace/b':>10} | "
    f"{'compile ms':>11}{'plan ms':>8}"
)


def row(r):
    return (
        f"{r['name']:<15}{r['backend']:>8}{r['edges']:>9}{r['levels']:>7} | {r['sweep'] * 1e3:>9.3f}"
        f"{r['generic'] / r['sweep']:>9.0f}{r['mgrad'] / r['sweep']:>8.0f}{r['torch'] / r['sweep']:>8.0f} | "
        f"{r['replay'] * 1e3:>10.3f}{r['mgrad'] / r['replay']:>10.1f} | {r['batched'] * 1e6:>12.2f}"
        f"{r['retrace'] / r['batched']:>10.0f} | {r['compile_ms']:>11.0f}{r['plan_ms']:>8.0f}"
    )


# --- size: a deep chain and a large random DAG, no tracing --------------------------------


def chain_graph(n):
    G = nx.DiGraph()
    G.add_edges_from((i, i + 1, {"partial": 1.0 + 1e-7 * (i % 3)}) for i in range(n))
    return G


def random_dag(edges, in_degree=10, seed=0):
    """Each node v >= 1 takes ``in_degree`` edges from earlier nodes (uniform), partials uniform in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = edges // in_degree + 1
    heads = np.repeat(np.arange(1, n), in_degree)
    tails = (rng.random(heads.size) * heads).astype(np.int64)
    partials = rng.uniform(-1, 1, heads.size)
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(zip(tails.tolist(), heads.tolist(), ({"partial": p} for p in partials.tolist())))
    return G


def size_report(label, G, start, direction, backend):
    edges = G.number_of_edges()
    tracemalloc.start()
    t0 = time.perf_counter()
    tape = compile_tape(G, backend=backend)
    t1 = time.perf_counter()
    result = tape.solve(start, direction=direction)
    t2 = time.perf_counter()
    tape.solve(start, direction=direction)
    t3 = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{label:<22}{backend:>6}{tape.n_nodes:>9}{edges:>10} | compile {t1 - t0:6.2f} s | "
        f"first solve {t2 - t1:6.2f} s, "
        f"again {t3 - t2:6.2f} s | plan depth {tape._plan(direction == 'forward').depth:>4} | "
        f"tape {tape.nbytes / edges:5.1f} B/edge, peak {peak / edges:6.1f} B/edge",
        flush=True,
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--chain", type=int, default=1_000_000)
    parser.add_argument("--dag-edges", type=int, default=10_000_000)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--backends", nargs="+", default=["numpy", "numba"] if numba_available() else ["numpy"])
    args = parser.parse_args()
    peers = "micrograd 0.1.0" + (f", torch {torch.__version__}" if torch is not None and not args.no_torch else "")
    print(f"numpy {np.__version__}, networkx {nx.__version__}, {peers}; medians of {args.repeat} (3 at most for peers)")
    print(HEADER, flush=True)
    programs = [(f"layered-{e}", *layered(e)) for e in args.sizes]
    programs += [("loop-sum 800", *loop_sum()), ("dense 16x800", *dense())]
    for name, program, n_inputs in programs:
        for result in measure(name, program, n_inputs, args):
            print(row(result), flush=True)
    print("\nsize (graphs built directly, compiled from networkx, solved with the real semiring):")
    for backend in args.backends:
        if args.chain:
            size_report(f"chain {args.chain}", chain_graph(args.chain), 0, "forward", backend)
    if args.dag_edges:
        G = random_dag(args.dag_edges)
        for backend in args.backends:
            size_report(f"random DAG {args.dag_edges}", G, G.number_of_nodes() - 1, "backward", backend)


if __name__ == "__main__":
    main()
