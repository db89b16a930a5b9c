"""GraphML export and import of large graphs: time and peak memory.

Run:  python benchmarks/bench_io.py [--nodes 10000] [--cases chain dag graph nx]

Each case builds a graph of about ``--nodes`` nodes in a fresh process, writes
it with :func:`pathad.to_graphml` and, in another fresh process, reads the file
back with ``pathad.io.read_graphml`` (``networkx.read_graphml`` where pathad has
no reader of its own; ``--readers networkx pathad`` runs both).  The cases:

* chain: the trace of ``x = sin(x) * 1.0001 + x`` repeated (three nodes a step),
  written from its tape (its networkx graph is never built),
* dag: the trace of a random straight-line program of scalar ops on the 16 most
  recent values (a random DAG with shared subexpressions), written from its tape,
* graph: the chain trace after ``tr.graph`` was built (written from the graph),
* nx: a plain ``networkx.DiGraph`` with int nodes, float/int/text attributes
  (some text with XML's special characters) and about two edges a node.

Memory is the process's resident set (RSS), not tracemalloc (which misses
memory outside Python's allocator and slows the run down): "peak" is the
high-water mark of the phase alone (Linux ``VmHWM`` after resetting it through
``/proc/self/clear_refs``; where that is not possible, ``resource.getrusage``'s
``ru_maxrss`` for the whole process so far), "held" the RSS at the end of the
phase.  Each phase runs in its own process so that one phase's memory does not
hide another's.
"""

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

import pathad
import pathad.io


def chain(n_nodes):
    """The trace of ``x = sin(x) * 1.0001 + x``, about ``n_nodes`` nodes long."""

    def f(x):
        for _ in range(max(1, (n_nodes - 1) // 3)):
            x = pathad.sin(x) * 1.0001 + x
        return x

    return pathad.trace(f, 0.5)


def dag(n_nodes, seed=0):
    """The trace of a random program of scalar ops over the 16 most recent values."""
    rng = random.Random(seed)
    unary = (pathad.sin, pathad.tanh, pathad.relu)

    def f(x, y):
        values = [x, y]
        for k in range(2, 2 + int(n_nodes / 1.25)):  # 1.25 nodes a step on average
            a = values[k - 1 - rng.randrange(min(k, 16))]
            b = values[k - 1 - rng.randrange(min(k, 16))]
            op = rng.randrange(4)
            if op == 0:
                values.append((a + b) * 0.5)
            elif op == 1:
                values.append(a * b)
            elif op == 2:
                values.append(a - b)
            else:
                values.append(unary[k % 3](a))
        return values[-1]

    return pathad.trace(f, 0.3, -0.7)


def plain(n_nodes, seed=0):
    """A networkx DiGraph with attributes of several types and about two edges a node."""
    rng = random.Random(seed)
    G = nx.DiGraph(title="plain <&> graph")
    for i in range(n_nodes):
        G.add_node(i, value=rng.random(), count=i % 7, name=f"n{i}" if i % 100 else f'<n{i} & "{i}">')
    for v in range(1, n_nodes):
        for _ in range(2):
            G.add_edge(rng.randrange(v), v, weight=rng.gauss(0.0, 1.0))
    return G


def build(case, n_nodes):
    if case == "chain":
        return chain(n_nodes)
    if case == "dag":
        return dag(n_nodes)
    if case == "graph":
        tr = chain(n_nodes)
        tr.graph  # noqa: B018 - the case writes from the networkx graph
        return tr
    return plain(n_nodes)


def rss_mb(field):
    """``VmHWM`` or ``VmRSS`` of this process in MB (None where /proc is not there)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak():
    """Start a new high-water mark of the RSS; False where the system cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


class Phase:
    """Time, peak and held RSS of a block."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.fresh = reset_peak()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        peak = rss_mb("VmHWM") if self.fresh else None
        self.peak = peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.held = rss_mb("VmRSS") or float("nan")
        return False

    def report(self):
        return {"phase": self.name, "seconds": self.seconds, "peak_mb": self.peak, "held_mb": self.held}


def child_write(case, n_nodes, path):
    with Phase("build") as built:
        obj = build(case, n_nodes)
    graph = obj.tape if isinstance(obj, pathad.Trace) else obj
    nodes = len(graph.ops) if isinstance(obj, pathad.Trace) else obj.number_of_nodes()
    edges = len(graph.src) if isinstance(obj, pathad.Trace) else obj.number_of_edges()
    with Phase("to_graphml") as written:
        pathad.to_graphml(obj, path)
    return {
        "nodes": nodes,
        "edges": edges,
        "bytes": os.path.getsize(path),
        "phases": [built.report(), written.report()],
    }


def child_read(reader, path):
    read = {"networkx": nx.read_graphml, "pathad": getattr(pathad.io, "read_graphml", None)}[reader]
    with Phase(f"read ({reader})") as phase:
        G = read(path)
    return {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(), "phases": [phase.report()]}


def spawn(*args):
    done = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(case, result):
    for phase in result["phases"]:
        print(
            f"{case:>6} {phase['phase']:<17} {phase['seconds']:>8.2f} s {phase['peak_mb']:>9.0f} MB peak"
            f" {phase['held_mb']:>9.0f} MB held",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10_000, help="about how many nodes each graph has")
    parser.add_argument(
        "--cases", nargs="+", default=["chain", "dag", "graph", "nx"], choices=["chain", "dag", "graph", "nx"]
    )
    parser.add_argument(
        "--readers",
        nargs="+",
        default=["pathad" if hasattr(pathad.io, "read_graphml") else "networkx"],
        choices=["networkx", "pathad"],
        help="pathad's reader where pathad has one, else networkx's (give both to compare)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one phase in this process: print its figures as JSON
        kind, *rest = args.child
        result = child_write(rest[0], int(rest[1]), rest[2]) if kind == "write" else child_read(*rest)
        print(json.dumps(result))
        return
    readers = [r for r in args.readers if r == "networkx" or hasattr(pathad.io, "read_graphml")]
    print(f"{args.nodes:,} nodes; RSS in MB (peak: the phase's high-water mark), each phase in a fresh process")
    with tempfile.TemporaryDirectory() as folder:
        for case in args.cases:
            path = Path(folder) / f"{case}.graphml"
            written = spawn("write", case, args.nodes, path)
            size = written["bytes"] / 2**20
            print(f"{case:>6}: {written['nodes']:,} nodes, {written['edges']:,} edges, {size:,.0f} MB file")
            show(case, written)
            for reader in readers:
                read = spawn("read", reader, path)
                assert (read["nodes"], read["edges"]) == (written["nodes"], written["edges"]), read
                show(case, read)
            path.unlink()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest peak RSS of any phase (getrusage RUSAGE_CHILDREN): {peak:,.0f} MB")
    assert math.isfinite(peak)


if __name__ == "__main__":
    main()
