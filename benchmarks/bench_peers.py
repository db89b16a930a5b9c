"""One benchmark run comparing pathad with its peers (issue 12): a table per workload, the goals checked.

Run:  python benchmarks/bench_peers.py [--quick] [--only 1 2 3 chain 4 5] [--rounds 7]
                                      [--sizes 10000 100000 [1000000]] [--backends numba numpy]

Peers (none needed; a missing one's column says "not installed"): micrograd 0.1.0, torch (float64, eager),
jax (x64, CPU), casadi (SX graphs in its virtual machine).  Everyone runs one thread (OMP/MKL/OpenBLAS/numba
/XLA thread settings before any import, ``torch.set_num_threads(1)``), with the garbage collector off
while timing (it collects between measurements, outside the clock).  The contestants of a table take turns
round by round (``--rounds``; the order rotates every round) and each number is the median of its rounds:
this machine is noisy.  A measurement repeats a fast call until it has run ``--budget`` seconds.

Every contestant's answer (value and gradient) is compared with pathad's: "max rel diff" is
max |a − r| / max(|r|, 10⁻⁶·max|r|) over the components, and anything above 10⁻⁹ is marked DIFFERENT and
makes the run exit with status 1: a benchmark that times different programs is worthless.

1. ``h``: h(x, y) = (x + 4y)·((x + y)·y) at (3, 5), the lecture's example, traced and differentiated
   (``pathad.gradient(pathad.trace(h, ...))``) against micrograd's build + ``backward()``; torch eager and
   ``jax.grad`` without jit for context.  Goal: ≤ 1.5× micrograd.
2. scalar programs from bench_core.py (``make_program``: chains, each step reading the value just made,
   and random DAGs over the 16 most recent values) of ``--sizes`` steps: trace + gradient in µs per operation
   against micrograd (goal ≤ 1.5×, and flat in size: the slowest size at most 1.25× the fastest, our
   reading of "flat"), and the memory the trace still holds after the gradient (tracemalloc, separate
   run, sizes up to ``--memory-up-to``; goal ≤ 600 B/op); both per operation of pathad's trace.
3. compiled replay (``pathad.compile(tr)``, then ``tape.value_and_gradient``) of a random DAG of ``--dag``
   steps, the ``--loop``-term loop sum of bench_compiled.py and the 64-16-10 training circuit of
   pathad.nn, in ns per operation of pathad's tape, at one point and at ``--batch`` points at once (ns per
   operation per point; every input differs between points), for each pathad backend.  Peers: the same
   program (see peers.py for how each is written) in ``jax.jit(jax.value_and_grad)`` and
   ``jax.jit(jax.vmap(...))``, a CasADi Function with its gradient (and ``.map(batch)``), torch eager (and
   ``torch.func.vmap``; on the DAG the batch is the program run on (batch,) tensors: vmap dispatches every
   scalar operation separately).  Goals: one point ≥ 5× faster than CasADi (≤ 0.2× its time), the batch
   ≤ 1.0× jax.jit + vmap.
   ``chain``: one replay against re-tracing (trace + gradient) on a chain of ``--chain`` steps, per
   backend.  Goal: the replay never slower (≤ 1.0×).
4. training the digits network 64-16-10 (bench_training.py's circuit, data, sample order and numpy
   floor): s/epoch per sample (batch 1) and at batch 32, pathad replay against the hand-written numpy
   backpropagation, jax.jit (one jitted SGD step per batch) for context; one epoch per round from the same
   start, on the first ``--samples`` training samples scaled to 1500.  Goals: ≤ 1.0× the floor per sample,
   ≤ 1.2× at batch 32.  The check compares the weights after the epoch with numpy's.
5. cold start (bench_cold_start.py): fresh processes, two in a row on one new cache directory, for pathad
   (first backend), jax and casadi.  Goals: pathad ≤ 10 s the first time, ≤ 1 s from the second process on.

``--quick`` (tiny sizes, 1 round, one cold-start process per peer, pathad's numpy backend unless
``--backends`` is given: numba's first compile takes tens of seconds) is what the smoke test runs.  The
first pathad call of a process compiles numba's loops (or loads them from pathad's cache): the "first
calls" notes say how long each contestant's first call took.
"""

import peers  # first: one thread per library, set before numpy, torch or jax load

# isort: split

import argparse
import gc
import os
import statistics
import sys
import threading
import time
import tracemalloc
from importlib.util import find_spec

import bench_cold_start
import bench_compiled
import bench_core
import bench_training
import numpy as np

import pathad

TOLERANCE = 1e-9
DIFFERENT = []  # (table, contestant, max rel diff) above TOLERANCE


# --- contestants and rounds ---------------------------------------------------------------------------------------


class Contestant:
    """One way to do a table row's unit of work.

    ``call()`` does the work once and returns its result (``timed=True``: returns (seconds, result), timing
    itself); ``answer(result)`` turns the result into numpy arrays laid out as pathad's, for the check.
    ``missing`` says why the contestant cannot run ("not installed").
    """

    def __init__(self, name, call=None, answer=None, *, missing=None, timed=False, setup=0.0, compiles=True):
        self.name, self.call, self.missing, self.timed = name, call, missing, timed
        self.answer = answer or (lambda result: result)
        self.setup = setup  # seconds spent building it (graphs, Functions), for the notes
        self.compiles = compiles  # whether the first call may run a compiler (then it is not a measurement)
        self.times, self.result, self.loops, self.first, self.once = [], None, 1, None, None

    def warm_up(self, budget):
        """The first call (compilers run here), keeping its result; then how many calls fill ``budget``."""
        start = time.perf_counter()
        outcome = self.call()
        self.first = self.once = time.perf_counter() - start
        self.result = outcome[1] if self.timed else outcome
        if self.timed:
            return
        if self.compiles:
            start = time.perf_counter()
            self.call()
            self.once = time.perf_counter() - start
        self.loops = max(1, int(budget / max(self.once, 1e-9)))

    def measure(self):
        if self.timed:
            seconds, self.result = self.call()
            return seconds
        call, loops = self.call, self.loops
        start = time.perf_counter()
        for _ in range(loops):
            call()
        return (time.perf_counter() - start) / loops

    @property
    def median(self):
        return statistics.median(self.times) if self.times else None


def race(contestants, rounds, budget, limit=600.0):
    """Time the runnable contestants in alternated rounds; each keeps its times and its first result.

    Fewer rounds (at least one) when they would take more than ``limit`` seconds in all.
    """
    live = [c for c in contestants if c.missing is None]
    gc.collect()
    gc.freeze()  # what lives now (modules, setups) is never garbage: the collections below skip it
    for c in live:
        gc.collect()
        c.warm_up(budget)
    per_round = sum(max(c.once * c.loops, budget) for c in live)
    rounds = max(1, min(rounds, int(limit / max(per_round, 1e-9))))
    for r in range(rounds):
        shift = r % len(live) if live else 0
        for c in live[shift:] + live[:shift]:
            gc.collect()
            c.times.append(c.measure())
    gc.collect()
    timed = ", ".join(f"{c.name} {c.median:.3g} s" for c in live)
    print(f"  timed {timed} ({rounds} rounds)", file=sys.stderr, flush=True)
    return contestants


def not_installed(name, peer):
    return Contestant(name, missing="not installed") if peers.load(peer) is None else None


# --- the check ----------------------------------------------------------------------------------------------------


def relative_difference(answer, reference):
    """max |a − r| / max(|r|, 1e-6·max|r|) over all components of the (value, gradient) arrays."""
    worst = 0.0
    for a, r in zip(answer, reference):
        worst = max(worst, bench_cold_start.relative_difference(a, r))
    return worst


def check(table, contestant, reference):
    """The max rel diff text of one contestant against the reference answer (recording a mismatch)."""
    if contestant.missing is not None or contestant.result is None:
        return ""
    if contestant is reference:
        return "(reference)"
    diff = relative_difference(contestant.answer(contestant.result), reference.answer(reference.result))
    if not diff <= TOLERANCE:
        DIFFERENT.append((table, contestant.name, diff))
        return f"{diff:.1e} DIFFERENT"
    return f"{diff:.1e}"


def goal(ratio, limit):
    """'≤ 1.5 ✓' or '≤ 1.5 ✗'."""
    if ratio is None:
        return f"≤ {limit:g} ?"
    return f"≤ {limit:g} {'✓' if ratio <= limit else '✗'}"


# --- printing -----------------------------------------------------------------------------------------------------


def print_table(title, header, rows, notes=()):
    print(f"\n{title}")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())
    for note in notes:
        print(f"  {note}")
    sys.stdout.flush()


def number(seconds, scale, missing=None):
    """A time in the table's unit (``scale`` per second), or why there is none."""
    if seconds is None:
        return missing or "-"
    value = seconds * scale
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def cell(contestant, scale):
    return number(contestant.median, scale, contestant.missing)


def ratio(a, b):
    return None if a is None or b is None or a.median is None or b.median is None else a.median / b.median


def text(value):
    return "-" if value is None else f"{value:.2f}"


def rounds_note(contestants, wanted):
    """A note when the time limit cut the rounds short."""
    done = {len(c.times) for c in contestants if c.missing is None}
    return f"{min(done)} rounds only (fewer for slow calls)" if done and min(done) < wanted else None


def first_calls(contestants):
    """A note: how long each contestant's first call (compiling, tracing) and its setup took."""
    parts = []
    for c in contestants:
        if c.first is not None and (c.first > 0.05 or c.setup > 0.05):
            setup = f" after {c.setup:.2g} s setup" if c.setup > 0.05 else ""
            parts.append(f"{c.name} {c.first:.2g} s{setup}")
    return "first calls: " + ", ".join(parts) if parts else None


# --- 1. h ---------------------------------------------------------------------------------------------------------


def h(x, y):
    """The lecture's h, as bench_core has it (kept here too while bench_core predates it)."""
    return (x + 4 * y) * ((x + y) * y)


H = getattr(bench_core, "h", h)


def workload_h(args):
    torch, jax, Value = peers.load("torch"), peers.load("jax"), peers.load("micrograd")
    Value = Value and Value.Value

    def pathad_h():
        return pathad.gradient(pathad.trace(H, x=3.0, y=5.0))

    def micrograd_h():
        x, y = Value(3.0), Value(5.0)
        out = H(x, y)
        out.backward()
        return out.data, x.grad, y.grad

    def torch_h():
        x, y = torch.tensor(3.0, requires_grad=True), torch.tensor(5.0, requires_grad=True)
        out = H(x, y)
        out.backward()
        return out, x.grad, y.grad

    grad_h = jax.grad(H, argnums=(0, 1)) if jax else None
    contestants = [
        Contestant("pathad (trace + gradient)", pathad_h, lambda g: ([], [g["x"], g["y"]])),
        not_installed("micrograd (build + backward)", "micrograd")
        or Contestant("micrograd (build + backward)", micrograd_h, lambda r: ([], r[1:])),
        not_installed("torch eager (build + backward)", "torch")
        or Contestant("torch eager (build + backward)", torch_h, lambda r: ([], [t.item() for t in r[1:]])),
        not_installed("jax.grad (no jit)", "jax")
        or Contestant("jax.grad (no jit)", lambda: grad_h(3.0, 5.0), lambda r: ([], [float(g) for g in r])),
    ]
    race(contestants, args.rounds, args.budget)
    reference, micrograd = contestants[:2]
    rows = []
    for c in contestants:
        r = ratio(c, micrograd)
        rows.append([c.name, cell(c, 1e6), text(r), goal(r, 1.5) if c is reference else "", check("h", c, reference)])
    print_table(
        "1. h(x, y) = (x + 4y)·((x + y)·y) at (3, 5), traced and differentiated: µs per call",
        ["contestant", "µs/call", "× micrograd", "goal", "max rel diff"],
        rows,
    )


# --- 2. scalar programs -------------------------------------------------------------------------------------------


def make_program(shape, n):
    """bench_core's program generator: a chain reads the value just made, a DAG the 16 most recent values."""
    return bench_core.make_program(n, window=2 if shape == "chain" else 16)


def trace_program(program, x=0.3, y=-0.7):
    return pathad.trace(lambda x, y: bench_core.run(program, x, y, pathad.relu), x, y)


def held_bytes(build):
    """Bytes the result of ``build()`` still holds (tracemalloc: current minus before), with it kept alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    gc.collect()
    return held


def workload_scalar(args):
    Value = peers.load("micrograd")
    Value = Value and Value.Value
    rows, totals, notes = [], {}, []
    for shape in ("chain", "dag"):
        for n in args.sizes:
            program = make_program(shape, n)

            def pathad_run(program=program):
                tr = trace_program(program)
                return tr, pathad.gradient(tr)

            def micrograd_run(program=program):
                x, y = Value(0.3), Value(-0.7)
                out = bench_core.run(program, x, y, Value.relu)
                out.backward()
                return out, x, y

            ours = Contestant("pathad", pathad_run, lambda r: ([r[0].value], [r[1]["x"], r[1]["y"]]), compiles=False)
            theirs = not_installed("micrograd", "micrograd") or Contestant(
                "micrograd", micrograd_run, lambda r: ([r[0].data], [r[1].grad, r[2].grad]), compiles=False
            )
            rounds = args.rounds if n < 1_000_000 else min(args.rounds, 3)
            race([ours, theirs], rounds, args.budget)
            short = rounds_note([ours, theirs], args.rounds)
            if short:
                notes.append(f"{shape} {n}: {short}")
            # per operation of pathad's trace (a step is two or three operations), the same count for both
            ops = len(ours.result[0].tape.ops) - 2
            memory = {"pathad": None, "micrograd": None}
            if n <= args.memory_up_to:  # tracemalloc slows allocation 20×: at 10^6 steps it takes many minutes
                memory["pathad"] = held_bytes(pathad_run) / ops
                memory["micrograd"] = held_bytes(micrograd_run) / ops if theirs.missing is None else None
            r = ratio(ours, theirs)
            totals.setdefault(shape, []).append(ours.median / ops)
            zeros = zero_fraction(ours.result[0])
            rows.append(
                [
                    shape,
                    n,
                    ops,
                    number(ours.median / ops, 1e6),
                    number(theirs.median and theirs.median / ops, 1e6, theirs.missing),
                    text(r),
                    goal(r, 1.5),
                    "-" if memory["pathad"] is None else f"{memory['pathad']:.0f}",
                    "" if memory["pathad"] is None else goal(memory["pathad"], 600),
                    "-" if memory["micrograd"] is None else f"{memory['micrograd']:.0f}",
                    check(f"scalar {shape} {n}", theirs, ours),
                    f"{zeros:.1%}",
                ]
            )
    for shape, per_op in totals.items():
        if len(per_op) > 1:
            spread = max(per_op) / min(per_op)
            notes.append(
                f"flat in size, {shape}: slowest size / fastest = {spread:.2f} µs/op ratio, {goal(spread, 1.25)}"
            )
    notes.append("zero values: the share of the trace's values that are exactly 0 (relu's zeros; a chain's gradient")
    notes.append("is often 0 all the same: one relu that is off on the chain stops every path)")
    print_table(
        "2. scalar programs (bench_core.make_program) at (0.3, -0.7): trace + gradient, µs per operation; "
        "memory held after the gradient, B per operation (operations: pathad's trace, the same count for both)",
        [
            "shape",
            "steps",
            "ops",
            "pathad µs/op",
            "micrograd µs/op",
            "× micrograd",
            "goal",
            "pathad B/op",
            "goal",
            "micrograd B/op",
            "max rel diff",
            "zero values",
        ],
        rows,
        notes,
    )


def zero_fraction(tr):
    """The share of a trace's recorded values that are exactly 0."""
    values = np.asarray(getattr(getattr(tr, "tape", None), "values", []), dtype=np.float64)
    return float(np.mean(values == 0.0)) if values.size else float("nan")


# --- 3. compiled replay -------------------------------------------------------------------------------------------


def replay_programs(args):
    """(name, kind, program, trace, one point, a batch of points (inputs × batch)) for workload 3."""
    rng = np.random.default_rng(1)
    dag = make_program("dag", args.dag)
    yield (
        f"random DAG {args.dag}",
        "dag",
        dag,
        trace_program(dag),
        rng.uniform(-1, 1, 2),
        rng.uniform(-1, 1, (2, args.batch)),
    )
    loop, n = bench_compiled.loop_sum(args.loop)
    tr = pathad.trace(lambda *xs: loop(pathad.relu, *xs), *rng.uniform(-1, 1, n))
    yield f"loop sum {args.loop}", "loop", loop, tr, rng.uniform(-1, 1, n), rng.uniform(-1, 1, (n, args.batch))
    circuit = mlp_circuit()
    point, points = bench_cold_start.mlp_points(args.batch)
    n_w = len(circuit.parameters())
    tr = circuit.trace(point[n_w : n_w + 64], point[n_w + 64 :], circuit.assign(point[:n_w]), data_inputs=True)
    yield "MLP 64-16-10 circuit", "mlp", None, tr, point, points


def mlp_circuit():
    from pathad.nn import MLP, Circuit, SquaredError

    return Circuit(MLP(list(peers.MLP_SIZES), "relu", output="linear"), SquaredError())


def pathad_contestants(tr, at, backends):
    """One contestant per backend: ``tape.value_and_gradient(at=at)``, the tape compiled beforehand."""
    out = []
    for backend in backends:
        start = time.perf_counter()
        tape = pathad.compile(tr, backend=backend)
        setup = time.perf_counter() - start

        def call(tape=tape):
            return tape.value_and_gradient(at=at)

        out.append(Contestant(f"pathad {backend}", call, lambda r: (r[0], r[1].array), setup=setup))
    return out, tape


def jax_contestant(kind, program, at):
    jax = peers.load("jax")
    if jax is None:
        return Contestant("jax.jit", missing="not installed")
    cost = peers.jax_program(kind, program)
    if at.ndim == 1:
        function = jax.jit(jax.value_and_grad(cost))
        z = jax.numpy.asarray(at)

        def answer(r):
            return [float(r[0])], np.asarray(r[1])
    else:
        function = jax.jit(jax.vmap(jax.value_and_grad(cost)))
        z = jax.numpy.asarray(at.T)

        def answer(r):
            return np.asarray(r[0]), np.asarray(r[1]).T

    return Contestant("jax.jit" if at.ndim == 1 else "jax.jit+vmap", lambda: jax.block_until_ready(function(z)), answer)


CASADI_KEPT = {}  # the Functions built, by program: CasADi frees a deep graph recursively, so never here


def on_big_stack(work):
    """Run ``work()`` in a thread with a 1 GiB stack: CasADi builds (and frees) deep SX graphs recursively,
    which overflows the main thread's 8 MiB at 10^5 steps."""
    result = []
    previous = threading.stack_size(1 << 30)
    try:
        thread = threading.Thread(target=lambda: result.append(work()))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    return result[0] if result else None


def casadi_function(kind, program, n_inputs):
    """The SX Function (value, gradient) of a program, built once on a big stack."""
    casadi = peers.load("casadi")
    key = (kind, id(program), n_inputs)
    if key not in CASADI_KEPT:

        def build():
            z, cost = peers.casadi_program(kind, n_inputs, program, bench_core.run)
            return casadi.Function("f", [z], [cost, casadi.gradient(cost, z)]), program

        CASADI_KEPT[key] = on_big_stack(build)
    return CASADI_KEPT[key][0]


def casadi_contestant(kind, program, at):
    casadi = peers.load("casadi")
    if casadi is None:
        return Contestant("casadi", missing="not installed")
    start = time.perf_counter()
    function = casadi_function(kind, program, at.shape[0])
    if at.ndim == 2:
        function = function.map(at.shape[1])
    setup = time.perf_counter() - start
    dm = casadi.DM(at)
    return Contestant(
        "casadi" if at.ndim == 1 else "casadi map",
        lambda: function(dm),
        lambda r: (np.asarray(r[0]).ravel(), np.asarray(r[1]).reshape(at.shape)),
        setup=setup,
    )


def torch_contestant(kind, program, at):
    torch = peers.load("torch")
    if torch is None:
        return Contestant("torch", missing="not installed")
    cost = peers.torch_program(kind, program, bench_core.run)
    if at.ndim == 1 or kind == "dag":  # eager; the DAG's batch as the program on (batch,) tensors

        def call():
            z = torch.from_numpy(at).requires_grad_()
            out = cost(z)
            (out.sum() if at.ndim == 2 else out).backward()
            return out.detach(), z.grad

        name = "torch" if at.ndim == 1 else "torch batched"
        return Contestant(name, call, lambda r: (r[0].numpy().ravel(), r[1].numpy()), compiles=False)
    function = torch.func.vmap(torch.func.grad_and_value(cost))
    rows = torch.from_numpy(np.ascontiguousarray(at.T))
    return Contestant("torch vmap", lambda: function(rows), lambda r: (r[1].numpy(), r[0].numpy().T))


def worst(table, contestants, reference):
    """The largest max rel diff of the peers (naming it), recording mismatches."""
    texts = [(c.name, check(table, c, reference)) for c in contestants if c is not reference]
    texts = [(name, t) for name, t in texts if t and t != "(reference)"]
    if not texts:
        return ""
    name, t = max(texts, key=lambda item: float(item[1].split()[0]))
    return f"{t} ({name})"


def workload_replay(args):
    rows, notes = [], []
    names = [f"pathad {b}" for b in args.backends] + ["jax", "casadi", "torch"]
    for title, kind, program, tr, point, points in replay_programs(args):
        for mode, at in (("1 point", point), (f"batch {args.batch}", points)):
            ours, tape = pathad_contestants(tr, at, args.backends)
            ops = tape.n_nodes - len(tape.inputs)
            contestants = [
                *ours,
                jax_contestant(kind, program, at),
                casadi_contestant(kind, program, at),
                torch_contestant(kind, program, at),
            ]
            race(contestants, args.rounds, args.budget)
            scale = 1e9 / ops / (1 if at.ndim == 1 else at.shape[1])
            jax_c, casadi_c = contestants[len(ours)], contestants[len(ours) + 1]
            to_casadi, to_jax = ratio(ours[0], casadi_c), ratio(ours[0], jax_c)
            rows.append(
                [
                    title,
                    ops,
                    mode,
                    *(cell(c, scale) for c in contestants),
                    text(to_casadi),
                    goal(to_casadi, 0.2) if at.ndim == 1 else "",
                    text(to_jax),
                    goal(to_jax, 1.0) if at.ndim == 2 else "",
                    worst(title, contestants, ours[0]),
                ]
            )
            note = first_calls(contestants)
            if note:
                notes.append(f"{title}, {mode}: {note}")
        if not np.any(tape.values[len(tape.inputs) :]):
            notes.append(
                f"{title}: every recorded value is 0 (the program underflows), so the gradients compared are 0"
            )
    print_table(
        f"3. compiled replay: value and gradient, ns per tape operation (per point for a batch); ratios for "
        f"pathad {args.backends[0]}",
        ["program", "ops", "at", *names, "× casadi", "goal", "× jax", "goal", "max rel diff"],
        rows,
        notes,
    )


def workload_chain(args):
    program = make_program("chain", args.chain)
    tr = trace_program(program)
    at = np.array([0.25, -0.6])
    retrace = Contestant(
        "pathad trace + gradient",
        lambda: pathad.gradient(trace_program(program, *at)),
        lambda g: ([], [g["x"], g["y"]]),
        compiles=False,
    )
    ours, tape = pathad_contestants(tr, at, args.backends)
    for c in ours:
        c.name = f"replay, {c.name}"
        c.answer = lambda r: ([], r[1].array)
    contestants = [retrace, *ours]
    race(contestants, min(args.rounds, 3) if args.chain >= 100_000 else args.rounds, args.budget)
    ops = tape.n_nodes - len(tape.inputs)
    rows = []
    for c in contestants:
        r = ratio(c, retrace)
        rows.append(
            [
                c.name,
                number(c.median, 1),
                number(c.median, 1e9 / ops),
                text(r),
                goal(r, 1.0) if c is not retrace else "",
                check("chain", c, retrace),
            ]
        )
    notes = [n for n in [first_calls(contestants), rounds_note(contestants, args.rounds)] if n]
    print_table(
        f"3b. a chain of {args.chain} steps ({ops} tape operations) at (0.25, -0.6): one replay against re-tracing",
        ["contestant", "s/call", "ns/op", "× trace+gradient", "goal", "max rel diff"],
        rows,
        notes,
    )


# --- 4. training --------------------------------------------------------------------------------------------------


def run_jax(step, circuit, theta, X, V, batch, epochs):
    """bench_training.run_numpy's loop with a jitted SGD step; returns (seconds per epoch, trained weights)."""
    jax = peers.load("jax")
    (W1, b1), (W2, b2) = circuit.net.matrices(theta)
    params = tuple(jax.numpy.asarray(a) for a in (W1, b1, W2, b2))
    seconds = []
    for order in bench_training.orders(len(X), epochs):
        start = time.perf_counter()
        for begin in range(0, len(X), batch):
            rows = order[begin : begin + batch]
            params = step(params, X[rows], V[rows])
        jax.block_until_ready(params)
        seconds.append(time.perf_counter() - start)
    W1, b1, W2, b2 = (np.asarray(p) for p in params)
    return seconds, np.concatenate([np.hstack([W1, b1[:, None]]).ravel(), np.hstack([W2, b2[:, None]]).ravel()])


def replay_engine(circuit, x, v, backend):
    """pathad's training engine (as bench_training builds it), its tape compiled for ``backend``."""
    from pathad.training import gradient_engine

    engine = gradient_engine(circuit, "replay", x, v)
    if getattr(engine, "tape", None) is not None and engine.tape.backend != backend:
        engine.tape = pathad.compile(
            circuit.trace(x, v, circuit.assign(circuit.init()), data_inputs=True), backend=backend
        )
    return engine


def workload_training(args):
    title = "4. training the digits network 64-16-10 (relu, Σ ½(y − v)², η = 0.01): seconds per epoch"
    if find_spec("sklearn") is None:
        print_table(title, ["batch", "contestant"], [], ["skipped: the digits need scikit-learn"])
        return
    circuit, theta0, X, V = bench_training.digits_problem()
    n = min(args.samples, len(X))
    X, V = X[:n], V[:n]
    scale = 1500 / n
    backend = args.backends[0]
    engine = replay_engine(circuit, X[0], V[0], backend)
    jax = peers.load("jax")
    step = peers.jax_mlp_step(bench_training.LEARNING_RATE) if jax else None
    rows = []
    for batch, limit in ((1, 1.0), (32, 1.2)):

        def floor(batch=batch):
            seconds, theta = bench_training.run_numpy(circuit, theta0.copy(), X, V, batch, 1)
            return seconds[0] * scale, theta

        def replay(batch=batch):
            seconds, theta = bench_training.run_pathad(engine, theta0.copy(), X, V, batch, 1)
            return seconds[0] * scale, theta

        def jitted(batch=batch):
            seconds, theta = run_jax(step, circuit, theta0.copy(), X, V, batch, 1)
            return seconds[0] * scale, theta

        contestants = [
            Contestant("numpy, hand-written (the floor)", floor, lambda t: ([], t), timed=True),
            Contestant(f"pathad replay ({backend})", replay, lambda t: ([], t), timed=True),
            not_installed("jax.jit SGD step", "jax")
            or Contestant("jax.jit SGD step", jitted, lambda t: ([], t), timed=True),
        ]
        race(contestants, args.rounds, args.budget)
        for c in contestants:
            r = ratio(c, contestants[0])
            rows.append(
                [
                    batch,
                    c.name,
                    cell(c, 1),
                    text(r),
                    goal(r, limit) if c is contestants[1] else "",
                    check(f"training batch {batch}", c, contestants[0]),
                ]
            )
    notes = [f"one epoch per round from the same start, the first {n} of 1500 samples, scaled to 1500"]
    notes.append("max rel diff: the weights after the epoch against numpy's")
    print_table(
        title,
        ["batch", "contestant", "s/epoch", "× numpy", "goal", "max rel diff"],
        rows,
        notes,
    )


# --- 5. cold start ------------------------------------------------------------------------------------------------


def workload_cold(args):
    backend = args.backends[0]
    rows = bench_cold_start.cold_starts(backend, args.batch, runs=2, peer_runs=args.peer_processes)
    header, lines = bench_cold_start.table_rows(rows, f"pathad ({backend})")
    reference = next((r["answer"] for r in rows if r["library"] == "pathad" and "answer" in r), None)
    for r in rows:
        if "answer" in r and reference is not None:
            diff = bench_cold_start.relative_difference(r["answer"], reference)
            if not diff <= TOLERANCE:
                DIFFERENT.append(("cold start", f"{r['library']} process {r['run']}", diff))
    print_table(
        f"5. cold start: fresh processes, the 64-16-10 circuit, two in a row on one new cache directory "
        f"(batch {args.batch})",
        header,
        lines,
        ["goal on the process's wall time, interpreter start-up included"],
    )


# --- the run ------------------------------------------------------------------------------------------------------

WORKLOADS = {
    "1": workload_h,
    "2": workload_scalar,
    "3": workload_replay,
    "chain": workload_chain,
    "4": workload_training,
    "5": workload_cold,
}
NUMBA = find_spec("numba") is not None
QUICK = {
    "rounds": 1,
    "budget": 0.002,
    "sizes": [500],
    "dag": 200,
    "loop": 200,
    "chain": 500,
    "batch": 8,
    "samples": 32,
    "backends": ["numpy"],
    "peer_processes": 1,
}
FULL = {
    "rounds": 7,
    "budget": 0.2,
    "sizes": [10_000, 100_000],
    "dag": 100_000,
    "loop": 20_000,
    "chain": 1_000_000,
    "batch": 1000,
    "samples": 1500,
    "backends": ["numba", "numpy"] if NUMBA else ["numpy"],
    "peer_processes": 2,
}


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 rounds, numpy backend (the smoke test)")
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), help="run these workloads only")
    parser.add_argument("--rounds", type=int, help="alternated rounds per table (7; --quick 2)")
    parser.add_argument("--budget", type=float, help="seconds of repeated calls per measurement (0.2)")
    parser.add_argument("--sizes", type=int, nargs="+", help="workload 2's program steps (10000 100000)")
    parser.add_argument("--memory-up-to", type=int, default=10_000, help="workload 2's memory runs up to this size")
    parser.add_argument("--dag", type=int, help="workload 3's random DAG steps (100000)")
    parser.add_argument("--loop", type=int, help="workload 3's loop-sum terms (20000)")
    parser.add_argument("--chain", type=int, help="the replay-against-retrace chain's steps (1000000)")
    parser.add_argument("--batch", type=int, help="points per batch in workloads 3 and 5 (1000)")
    parser.add_argument("--samples", type=int, help="training samples timed per epoch, scaled to 1500 (1500)")
    parser.add_argument("--peer-processes", type=int, help="cold-start processes of jax and casadi (2; --quick 1)")
    parser.add_argument("--without", nargs="+", default=[], choices=list(peers.PEERS), help="treat as not installed")
    parser.add_argument("--backends", nargs="+", choices=["numba", "numpy"], help="pathad's; the first is compared")
    args = parser.parse_args(argv)
    peers.WITHOUT.update(args.without)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def header(args):
    import platform

    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # it comes with scikit-learn
        threadpool_info = list
    found = ", ".join(f"{name} {v or 'not installed'}" for name, v in peers.versions().items())
    blas = "".join(f", {i.get('internal_api')} {i.get('architecture', '')}".rstrip() for i in threadpool_info())
    print(
        f"pathad {getattr(pathad, '__version__', '')} on Python {platform.python_version()}, numpy {np.__version__}"
        f"{blas}; pathad backends {' '.join(args.backends)}; peers: {found}"
    )
    print(
        f"medians of {args.rounds} alternated rounds, ≥ {args.budget:g} s of calls each; gc off while timing; "
        f"one thread each; load average {' '.join(f'{a:.1f}' for a in os.getloadavg())} at the start"
    )


def main(argv=None):
    args = parse(argv)
    header(args)
    gc.disable()
    for key, workload in WORKLOADS.items():
        if args.only and key not in args.only:
            continue
        start = time.perf_counter()
        workload(args)
        print(f"  (workload {key} took {time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    on_big_stack(CASADI_KEPT.clear)
    gc.enable()
    print(f"\nload average at the end: {' '.join(f'{a:.1f}' for a in os.getloadavg())}")
    if DIFFERENT:
        print(
            "\nDIFFERENT answers (max rel diff above 1e-9): "
            + "; ".join(f"{t}: {name} {d:.1e}" for t, name, d in DIFFERENT)
        )
        return 1
    print(f"every contestant's answers agree with pathad's to {TOLERANCE:g} relative")
    return 0


if __name__ == "__main__":
    sys.exit(main())
