"""Cold start: fresh processes that differentiate the 64-16-10 training circuit once, pathad against JAX and CasADi.

Run:  python benchmarks/bench_cold_start.py [--backend numba|numpy] [--batch 1000] [--runs 2] [--keep DIR]
                                           [--libraries pathad jax casadi]

Each library runs in ``python -c`` subprocesses, ``--runs`` of them in a row (default 2) sharing one fresh
temporary cache directory: the first process compiles, the ones after it may load from the disk caches.
pathad gets ``PATHAD_CACHE_DIR`` (its kernel cache) and ``NUMBA_CACHE_DIR`` set to folders of that
directory; JAX its persistent compilation cache there (every entry kept, however fast it compiled); CasADi
has no such cache for a Function built in Python.  Every process, timed separately inside it:

* import: the library (pathad: with numpy and its circuit classes);
* build: pathad traces the circuit (weights, pixels x and targets v as inputs) and compiles the tape;
  JAX defines the jitted functions (nothing compiles yet); CasADi builds the SX graph, its gradient and
  the Function;
* gradient: the first value and gradient at one point (pathad: ``tape.value_and_gradient``; JAX:
  ``jax.jit(jax.value_and_grad)``; CasADi: the Function in its VM);
* evaluate: the first value alone (``tape.evaluate``, ``jax.jit(f)``, a value-only Function);
* batch: the first value and gradient at ``--batch`` points (``at=`` a 2-D array, ``jax.jit(jax.vmap)``,
  ``Function.map``);

and the wall time of the whole process as its parent sees it (interpreter start-up included).  Goals
(issue 12): pathad's process ≤ 10 s the very first time, ≤ 1 s from the second on.  Every process's
gradient is compared with pathad's first one (max rel diff, as in bench_peers.py).
"""

import peers  # first: one thread per library, in environment variables that the subprocesses inherit

# isort: split

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
SIZES = (64, 16, 10)
GOAL_FIRST, GOAL_LATER = 10.0, 1.0
PHASES = ("import", "build", "gradient", "evaluate", "batch")

PATHAD = """
import time
start = time.perf_counter()
import numpy as np
import pathad
from pathad.nn import MLP, Circuit, SquaredError
times = [time.perf_counter()]
point, batch = np.load(FOLDER + "/point.npy"), np.load(FOLDER + "/batch.npy")
circuit = Circuit(MLP(list(SIZES), "relu", output="linear"), SquaredError())
n_w = len(circuit.parameters())
x, v = point[n_w : n_w + SIZES[0]], point[n_w + SIZES[0] :]
tape = pathad.compile(circuit.trace(x, v, circuit.assign(point[:n_w]), data_inputs=True), backend=BACKEND)
times.append(time.perf_counter())
value, grad = tape.value_and_gradient(at=point)
times.append(time.perf_counter())
tape.evaluate(at=point)
times.append(time.perf_counter())
tape.value_and_gradient(at=batch)
times.append(time.perf_counter())
np.save(OUT, np.concatenate([[value], grad.array]))
"""

JAX = """
import time
start = time.perf_counter()
import sys
sys.path.insert(0, BENCHMARKS)
import peers
import numpy as np
jax = peers.load("jax")
jax.config.update("jax_compilation_cache_dir", FOLDER + "/jax")
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
times = [time.perf_counter()]
point, batch = np.load(FOLDER + "/point.npy"), np.load(FOLDER + "/batch.npy")
cost = peers.jax_program("mlp")
value_and_grad, evaluate = jax.jit(jax.value_and_grad(cost)), jax.jit(cost)
batched = jax.jit(jax.vmap(jax.value_and_grad(cost)))
times.append(time.perf_counter())
value, grad = jax.block_until_ready(value_and_grad(point))
times.append(time.perf_counter())
jax.block_until_ready(evaluate(point))
times.append(time.perf_counter())
jax.block_until_ready(batched(batch.T))
times.append(time.perf_counter())
np.save(OUT, np.concatenate([[float(value)], np.asarray(grad)]))
"""

CASADI = """
import time
start = time.perf_counter()
import sys
sys.path.insert(0, BENCHMARKS)
import peers
import numpy as np
casadi = peers.load("casadi")
times = [time.perf_counter()]
point, batch = np.load(FOLDER + "/point.npy"), np.load(FOLDER + "/batch.npy")
z, cost = peers.casadi_program("mlp", point.size)
function = casadi.Function("f", [z], [cost, casadi.gradient(cost, z)])
times.append(time.perf_counter())
value, grad = function(point)
times.append(time.perf_counter())
casadi.Function("e", [z], [cost])(point)
times.append(time.perf_counter())
function.map(batch.shape[1])(batch)
times.append(time.perf_counter())
np.save(OUT, np.concatenate([[float(value)], np.asarray(grad).ravel()]))
"""

REPORT = """
import json
print(json.dumps([times[0] - start] + [b - a for a, b in zip(times, times[1:])]))
"""

CODES = {"pathad": PATHAD, "jax": JAX, "casadi": CASADI}


def mlp_points(batch, seed=0):
    """One point and ``batch`` points (columns) for the circuit: weights near a seeded init, digit-like pixels."""
    n_in, n_hidden, n_out = SIZES
    n_w = n_hidden * (n_in + 1) + n_out * (n_hidden + 1)
    rng = np.random.default_rng(seed)
    scale = np.concatenate([np.full(n_hidden * (n_in + 1), 1 / np.sqrt(n_in)), np.full(n_w - n_hidden * (n_in + 1),
                            1 / np.sqrt(n_hidden))])  # fmt: skip

    def points(count):
        weights = rng.uniform(-1, 1, (n_w, count)) * scale[:, None]
        return np.vstack([weights, rng.uniform(0, 16, (n_in, count)), rng.uniform(0, 1, (n_out, count))])

    return points(1)[:, 0], points(batch)


def installed(library):
    return library == "pathad" or peers.versions()[library] is not None


def run_process(library, folder, run, backend):
    """One fresh process: (its phase times, its wall time, its (value, gradient) vector), or an error text."""
    out = f"{folder}/answer_{library}_{run}.npy"
    constants = f"FOLDER = {str(folder)!r}\nOUT = {out!r}\nBENCHMARKS = {str(BENCHMARKS)!r}\n"
    constants += f"SIZES = {SIZES!r}\nBACKEND = {backend!r}\n"
    env = dict(os.environ, PATHAD_CACHE_DIR=f"{folder}/pathad", NUMBA_CACHE_DIR=f"{folder}/numba")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", constants + CODES[library] + REPORT], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]}
    phases = json.loads(done.stdout.strip().splitlines()[-1])
    return {"phases": dict(zip(PHASES, phases)), "wall": wall, "answer": np.load(out)}


def cold_starts(backend="numba", batch=1000, runs=2, libraries=("pathad", "jax", "casadi"), keep=None, peer_runs=None):
    """Rows {library, run, phases, wall, answer | missing | error}: ``runs`` fresh processes per library
    (``peer_runs`` for the libraries other than pathad, if given)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="pathad-cold-") as scratch:
        point, points = mlp_points(batch)
        for library in libraries:
            folder = Path(keep or scratch) / library
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / "point.npy", point)
            np.save(folder / "batch.npy", points)
            count = runs if library == "pathad" or peer_runs is None else peer_runs
            for run in range(1, count + 1):
                if not installed(library):
                    rows.append({"library": library, "run": run, "missing": "not installed"})
                    continue
                rows.append({"library": library, "run": run, **run_process(library, folder, run, backend)})
                print(f"  cold start: {library} process {run} done", file=sys.stderr, flush=True)
    return rows


def relative_difference(answer, reference):
    """max |a − r| / max(|r|, 1e-6·max|r|) over the components (as bench_peers.py)."""
    reference = np.asarray(reference, dtype=np.float64).ravel()
    answer = np.asarray(answer, dtype=np.float64).ravel()
    if answer.shape != reference.shape:
        return float("inf")
    scale = np.max(np.abs(reference), initial=0.0)
    floor = max(1e-6 * scale, np.finfo(float).tiny)
    return float(np.max(np.abs(answer - reference) / np.maximum(np.abs(reference), floor), initial=0.0))


def table_rows(rows, label="pathad"):
    """The table's lines: one per process, the goal checked on pathad's wall time."""
    reference = next((r["answer"] for r in rows if r["library"] == "pathad" and "answer" in r), None)
    header = ["library", "process", *(f"{p} s" for p in PHASES), "wall s", "goal", "max rel diff"]
    lines = []
    for r in rows:
        name = label if r["library"] == "pathad" else r["library"]
        which = _ordinal(r["run"])
        if "answer" not in r:
            lines.append([name, which, r.get("missing") or "failed: " + r["error"][:80]] + [""] * (len(header) - 3))
            continue
        goal = ""
        if r["library"] == "pathad":
            limit = GOAL_FIRST if r["run"] == 1 else GOAL_LATER
            goal = f"≤ {limit:g} s {'✓' if r['wall'] <= limit else '✗'}"
        diff = "" if reference is None else f"{relative_difference(r['answer'], reference):.1e}"
        lines.append([name, which, *(f"{r['phases'][p]:.3f}" for p in PHASES), f"{r['wall']:.2f}", goal, diff])
    return header, lines


def print_table(header, lines):
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, *lines]:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numba", choices=["numba", "numpy"], help="pathad's replay backend")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2, help="processes in a row per library, one cache folder")
    parser.add_argument("--keep", help="use (and keep) this folder instead of a temporary one")
    parser.add_argument("--libraries", nargs="+", default=list(CODES), choices=list(CODES), help="whose processes")
    args = parser.parse_args(argv)
    print(f"cold start: the 64-16-10 circuit, fresh processes, pathad backend {args.backend}, batch {args.batch}")
    rows = cold_starts(args.backend, args.batch, args.runs, args.libraries, keep=args.keep)
    print_table(*table_rows(rows, f"pathad ({args.backend})"))


def _ordinal(n):
    """1st, 2nd, 3rd, 4th, ..., 11th, 21st."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


if __name__ == "__main__":
    main()
