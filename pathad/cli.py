"""The ``pathad`` command.

``pathad trace EXPR --at x=3 y=5`` traces a formula and prints its value and every
partial by a forward and a backward sweep (or answers another path problem with
``--semiring``); ``pathad explain`` writes a derivative out as its sum over paths;
``pathad tour`` is the lecture's running example; ``pathad figures`` regenerates
the figures; ``pathad train`` trains a small network on a dataset.

Formulas are parsed by :mod:`pathad.expressions` (never evaluated as Python).
Every error is one line on stderr and exit status 2.
"""

import argparse
import importlib.metadata
import json
import math
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

from . import nn, training
from .animate import animate
from .derivatives import gradient
from .draw import FORMATS, draw
from .elimination import fold_linear
from .enumeration import count_paths, explain
from .errors import PathadError, TooManyPathsError
from .expressions import FUNCTIONS, ExpressionError, parse, parse_point
from .figures import FIGURES, make_figures
from .io import save, to_graphml
from .second import hessian
from .semirings import MAX_TIMES, as_semiring
from .solver import solve
from .symbolic import symbolic_derivative
from .tracing import trace

__all__ = ["main", "tour", "figures", "trace_report", "version", "SEMIRING_NAMES"]

#: The semirings ``pathad trace --semiring`` offers (SYMBOLIC is ``--symbolic``).
SEMIRING_NAMES = ("real", "boolean", "counting", "max-times", "min-plus", "max-plus")

_SYMBOLIC_NODES = 200  # --symbolic refuses bigger graphs: sympy can take minutes on them


def _wrapped(text, width=78):
    """``text`` broken into lines of at most ``width`` characters, at spaces."""
    return textwrap.fill(text, width, break_on_hyphens=False)


_MODES = {"both": ("forward", "backward"), "forward": ("forward",), "backward": ("backward",)}

_EXAMPLES = {
    None: """examples:
  pathad trace "(x + 4*y) * ((x + y) * y)" --at x=3 y=5    value and partials, both sweeps
  pathad explain "(x + 4*y) * ((x + y) * y)" --at x=3 y=5  each partial as a sum over paths
  pathad animate "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 -o sweep.html
                                                           step through a sweep in the browser
  pathad tour                                              the lecture's running example
  pathad figures --out figures/                            redraw the lecture's figures
  pathad train --dataset xor --epochs 200 --seed 0         train a small network

each command has its own --help""",
    "trace": """examples:
  pathad trace "(x + 4*y) * ((x + y) * y)" --at x=3 y=5
  pathad trace "(x1 + x2) * log(x1 + x2)" --at x1=2,x2=5 --wrt x1 --mode forward
  pathad trace "sqrt(3 * sin(x))" --at x=2 --symbolic
  pathad trace "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --semiring counting
  pathad trace "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --draw h.svg --save h.json
  pathad trace "sigmoid(w*x + b)" --at w=2 x=1 b=0 --json
  pathad trace "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --source backward

"""
    + _wrapped(
        "formulas use numbers, the variables given with --at, pi, e, + - * / ** % // and the functions "
        + ", ".join(FUNCTIONS)
    ),
    "explain": """examples:
  pathad explain "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --wrt x
      ∂f/∂x = 1·y·(x+y) + 1·y·(x+4·y) = 40 + 115 = 155
  pathad explain "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --wrt y --numbers""",
    "animate": """examples:
  pathad animate "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --wrt x -o forward.html
  pathad animate "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --mode backward -o backward.html
  pathad animate "(x + 4*y) * ((x + y) * y)" --at x=3 y=5 --wrt y --semiring max-times -o best.html

open the page in a browser: next/previous, play, or the arrow keys""",
    "tour": """example:
  pathad tour""",
    "figures": """examples:
  pathad figures --out figures/
  pathad figures --out /tmp/figs --only fig2a fig3a --format svg""",
    "train": """examples:
  pathad train --dataset xor --epochs 200 --seed 0
  pathad train --dataset iris --epochs 50 --seed 1 --learning-rate 0.1
  pathad train --dataset digits --epochs 10 --seed 0 --batch-size 32 --no-progress

the last line printed is "test accuracy: 0.xx\"""",
}


_FORMULA_USAGE = "pathad {} EXPR --at NAME=VALUE [NAME=VALUE ...] [options]"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message):
        if "EXPR" in message:  # put after --at, the formula is taken for a value; "-x*y" reads as an option
            message += (
                f'; the formula goes first ({self.prog} "x*y" --at x=3 y=5),'
                ' and one that starts with - needs a space in front (" -x*y")'
            )
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- the subcommands ----------------------------------------------------------


def tour(out=None):
    """Print the value of h(3, 5) and its partials, forward and backward.

    Examples
    --------
    >>> tour()  # doctest: +ELLIPSIS
    h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5
    value: 920
    ...
    """
    out = out or sys.stdout
    tr = trace(_h, x=3.0, y=5.0)
    print("h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5", file=out)
    print(f"value: {_number(tr.value)}", file=out)
    print(_graph_line(tr.graph.number_of_nodes(), tr.graph.number_of_edges()), file=out)
    grads = {mode: gradient(tr, mode=mode) for mode in ("forward", "backward")}
    shown = {name: _shown_row([grads[mode][name] for mode in grads]) for name in grads["forward"]}
    for i, (mode, sweeps) in enumerate((("forward", "one sweep per input"), ("backward", "one sweep for all inputs"))):
        parts = ", ".join(f"∂h/∂{name} = {cells[i]}" for name, cells in shown.items())
        print(f"{mode:>8} ({sweeps}): {parts}", file=out)


def _h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def figures(out, names=None, formats=("svg", "png"), stream=None):
    """Write the reproduced figures into ``out``, one line per file (see :mod:`pathad.figures`).

    Examples
    --------
    >>> figures("figures")  # doctest: +SKIP
    wrote figures/fig2a.svg
    ...
    """
    stream = stream or sys.stdout
    make_figures(out, names=names, formats=formats, log=lambda line: print(line, file=stream))


def trace_report(text, at, *, wrt=None, modes=("forward", "backward"), semiring="real", symbolic=False, name="f"):
    """Trace the formula ``text`` at ``at`` and answer the path problem from each input to the result.

    Parameters
    ----------
    text : str
        The formula (see :mod:`pathad.expressions`).
    at : dict
        Variable name -> value; every name is an input.
    wrt : list of str, optional
        The inputs to report (default: all).
    modes : tuple of {"forward", "backward"}
        Forward: one sweep from each input; backward: one sweep from the result.
    semiring : str
        "real" for derivatives, or another of :data:`SEMIRING_NAMES`.
    symbolic : bool
        Also give each derivative as a formula (needs sympy).
    name : str
        The name of the result ("f" in ∂f/∂x).

    Returns
    -------
    dict
        ``expression``, ``at``, ``value``, ``graph`` (node and edge counts),
        ``semiring`` and ``meaning``, one entry per mode ({input: answer}),
        ``symbolic`` when asked and ``notes`` when the result depends on no
        input (then every derivative is 0, and the note says so); JSON-ready.
        The trace is under ``"trace"``.

    Examples
    --------
    >>> report = trace_report("(x + 4*y) * ((x + y) * y)", {"x": 3, "y": 5})
    >>> report["value"], report["forward"], report["backward"]
    (920.0, {'x': 155.0, 'y': 459.0}, {'x': 155.0, 'y': 459.0})
    >>> trace_report("(x + 4*y) * ((x + y) * y)", {"x": 3, "y": 5}, semiring="counting")["backward"]
    {'x': 2, 'y': 3}
    >>> report = trace_report("3", {"x": 1})
    >>> report["backward"], report["notes"]
    ({'x': 0.0}, ['f does not depend on x: it is the constant 3, so every derivative is 0'])
    """
    ring = as_semiring(semiring)
    wrt = _checked_wrt(wrt, at)
    _check_name(name, at)
    tr = _traced(text, at, name)
    report = {
        "expression": text,
        "at": dict(at),
        "value": tr.value,
        "graph": {"nodes": tr.graph.number_of_nodes(), "edges": tr.graph.number_of_edges()},
        "semiring": ring.name,
        "meaning": ring.description,
    }
    for mode in modes:
        report[mode] = {w: _answer(tr, ring, w, value) for w, value in _sweep(tr, ring, wrt, mode).items()}
    if symbolic:
        report["symbolic"] = _formulas(tr, wrt)
    if tr.constant_outputs:
        inputs = " or ".join(", ".join(at).rsplit(", ", 1)) if at else "any input"
        why = "so every derivative is 0" if ring.name == "real" else "so no path leads to it"
        report["notes"] = [f"{name} does not depend on {inputs}: it is the constant {_number(tr.value)}, {why}"]
    report["trace"] = tr
    return report


def _traced(text, at, name):
    """The trace of formula ``text`` at the point ``at`` given with --at."""
    expression = parse(text)
    missing = [v for v in expression.variables if v not in at]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        given = " ".join(f"{v}=..." for v in missing)
        raise ExpressionError(f"no value for the variable{plural} {', '.join(missing)}: add {given} to --at")
    with warnings.catch_warnings():  # a formula that depends on no variable: the report says so in words
        warnings.filterwarnings("ignore", "no output of", UserWarning)
        return expression.trace(at, name=name)


def _checked_wrt(wrt, at):
    """The inputs to report: ``wrt`` if every one was given with --at, all of them if None."""
    wrt = list(at) if wrt is None else list(wrt)
    unknown = [w for w in wrt if w not in at]
    if unknown:
        raise ExpressionError(f"--wrt {' '.join(unknown)}: not a variable given with --at ({', '.join(at)})")
    return wrt


def _check_name(name, at):
    if not name.isidentifier() or name in at:
        raise ExpressionError(f"--name {name!r} must be a name (letters, digits, _) other than the variables'")


def _sweep(tr, ring, wrt, mode):
    """{input: path value input→result}: one forward sweep per input, or one backward sweep."""
    target = tr.output
    if mode == "forward":
        return {w: solve(tr, w, semiring=ring, targets=target).get(target, ring.zero) for w in wrt}
    sweep = solve(tr, target, direction="backward", semiring=ring, targets=wrt)
    return {w: sweep.get(tr.node(w), ring.zero) for w in wrt}


def _answer(tr, ring, source, value):
    """A path value from ``source`` as JSON data: numbers, booleans, None for "no path", a path as its labels."""
    if ring is MAX_TIMES:
        if value.edges is None:
            return None
        edges = list(value.edges)  # empty when the formula is the input itself
        product = math.prod(w for _, _, w in edges)
        return {"product": float(product), "path": [source, *(tr.label(v) for _, v, _ in edges)]}
    if isinstance(value, float) and math.isinf(value) and value == ring.zero:  # min-plus/max-plus: inf is no path
        return None
    return value


def _formulas(tr, wrt):
    nodes = tr.graph.number_of_nodes()
    if nodes > _SYMBOLIC_NODES:
        raise PathadError(
            f"--symbolic: the graph has {nodes} nodes; formulas are written for at most {_SYMBOLIC_NODES} "
            "(symbolic derivatives swell: count the terms with --semiring counting)"
        )
    try:
        return {w: str(symbolic_derivative(tr, w)) for w in wrt}
    except RecursionError:  # sympy recurses on deeply nested formulas
        raise PathadError("the formula nests too deeply for sympy; leave out --symbolic") from None


# --- printing ------------------------------------------------------------------


def _print_report(report, name, out):
    at = ", ".join(f"{k} = {_number(v)}" for k, v in report["at"].items())
    print(f"{name} = {report['expression'].strip()}", file=out)
    print(f"at {at}", file=out)
    print(f"value: {_number(report['value'])}", file=out)
    print(_graph_line(report["graph"]["nodes"], report["graph"]["edges"]), file=out)
    if report["semiring"] != "real":
        print(f"semiring {report['semiring']}: {report['meaning']}", file=out)
    modes = [mode for mode in ("forward", "backward") if mode in report]
    print(file=out)
    _print_table(report, name, modes, out)
    for mode in modes:
        print(_sweep_note(mode, len(report[mode]), name), file=out)
    for w, formula in report.get("symbolic", {}).items():
        print(f"∂{name}/∂{w} = {formula}", file=out)
    for note in report.get("notes", ()):
        print(note, file=out)


def _print_table(report, name, modes, out):
    real = report["semiring"] == "real"
    rows = [[""] + list(modes)]
    notes = []
    for w in report[modes[0]]:
        row_name = f"∂{name}/∂{w}" if real else f"{w} → {name}"
        answers = [report[mode][w] for mode in modes]
        rows.append([row_name] + _shown_row(answers))
        notes.extend(_difference_note(row_name, modes, answers))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)
    for note in dict.fromkeys(notes):
        print(note, file=out)


def _graph_line(nodes, edges):
    """The graph line of ``trace`` and ``tour``: both count the graph as traced (drawings fold 4*y and the like)."""
    return f"graph: {nodes} nodes, {edges} edges, each edge labeled with its local partial"


def _shown_row(answers):
    """The cells of one row of the table: answers that agree to rounding are shown alike.

    Floats are shown to :data:`_DIGITS` significant digits (``--json`` has every
    digit); when the sweeps' answers agree to rounding but would still print
    differently there (they straddle a rounding boundary), fewer digits are
    shown, down to 12, until they look the same.

    >>> _shown_row([-0.37794120918695956, -0.3779412091869595])
    ['-0.37794120918696', '-0.37794120918696']
    >>> _shown_row([155.0, 155.0])
    ['155', '155']
    """
    if len(answers) > 1 and _agree_to_rounding(answers):
        for digits in range(_DIGITS, 11, -1):
            cells = [_number(answer, digits) for answer in answers]
            if len(set(cells)) == 1:
                return cells
    return [_shown(answer) for answer in answers]


def _agree_to_rounding(answers):
    """Whether ``answers`` are floats within a relative :data:`_ROUNDING` of each other (or all equal)."""
    if not all(isinstance(a, float) and not isinstance(a, bool) and math.isfinite(a) for a in answers):
        return False
    return max(answers) - min(answers) <= _ROUNDING * max(abs(a) for a in answers)


def _difference_note(row_name, modes, answers):
    """A note when the sweeps' answers in a row are not the same number: by rounding only, or beyond it."""
    numbers = [a for a in answers if isinstance(a, float) and not isinstance(a, bool)]
    if len(numbers) < 2 or len(set(numbers)) == 1:
        return []
    if _agree_to_rounding(numbers):
        return [
            "forward and backward agree to rounding (their last digits differ: the sweeps add the path terms "
            f"in different orders); shown to {_DIGITS} significant digits, --json has every digit"
        ]
    shown = ", ".join(f"{mode} {value!r}" for mode, value in zip(modes, answers))
    return [f"{row_name}: the sweeps differ beyond rounding ({shown}): cancellation between paths loses digits"]


def _sweep_note(mode, count, name):
    if mode == "forward":
        plural = "s" if count != 1 else ""
        return f"forward: {count} sweep{plural}, one from each input (forward mode)"
    return f"backward: 1 sweep, from {name} to all inputs at once (reverse mode, backpropagation)"


def _shown(answer):
    if answer is None:
        return "no path"
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, dict):
        return f"{_number(answer['product'])} along {' → '.join(answer['path'])}"
    return _number(answer)


_DIGITS = 15  # significant digits of numbers in the text output (every float of 15 digits prints as typed)
_ROUNDING = 1e-12  # relative difference up to which two sweeps' answers count as the same number


def _number(value, digits=_DIGITS):
    """920.0 -> '920'; other floats to ``digits`` significant digits, shortest form ('0.1', '1e-300').

    >>> _number(920.0), _number(0.1), _number(-0.37794120918695956)
    ('920', '0.1', '-0.37794120918696')
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, f".{digits}g") if isinstance(value, float) else str(value)


# --- running the subcommands -------------------------------------------------------


def _run_trace(args, out):
    if args.source is not None:
        return _run_source(args, out)
    _check_output_files(args)
    at = parse_point(args.at)
    report = trace_report(
        args.expression,
        at,
        wrt=args.wrt,
        modes=_MODES[args.mode],
        semiring=args.semiring,
        symbolic=args.symbolic,
        name=args.name,
    )
    tr = report.pop("trace")
    if args.hessian:
        report["hessian"] = hessian_report(tr)
    if args.newton is not None:
        report["newton"] = newton_report(args.expression, at, args.newton, args.name)
    files = _write_files(tr, args)
    if args.json:
        report["files"] = files
        print(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False), file=out)
        return 0
    _print_report(report, args.name, out)
    if args.hessian:
        _print_hessian(report["hessian"], args.name, out)
    if args.newton is not None:
        _print_newton(report["newton"], out)
    for file in files:
        print(f"wrote {file}{_folded_note(tr) if file == args.draw else ''}", file=out)
    return 0


def _run_source(args, out):
    """``pathad trace EXPR --at ... --source forward|backward``: the sweep's program, as Python, and nothing else."""
    from .source import adjoint_source, tangent_source

    others = [option for option, given in (("--json", args.json), ("--symbolic", args.symbolic),
              ("--hessian", args.hessian), ("--newton", args.newton is not None), ("--draw", args.draw),
              ("--save", args.save), ("--mode", args.mode != "both"), ("--semiring", args.semiring != "real"))
              if given]  # fmt: skip
    if others:
        raise ExpressionError(f"--source prints the program alone; leave out {' and '.join(others)}")
    at = parse_point(args.at)
    wrt = _checked_wrt(args.wrt, at)
    _check_name(args.name, at)
    tr = _traced(args.expression, at, args.name)
    if args.source == "backward":
        print(adjoint_source(tr).source, end="", file=out)
        return 0
    print("\n\n".join(tangent_source(tr, w).source for w in wrt), end="", file=out)
    return 0


def hessian_report(tr):
    """The Hessian of a traced formula, JSON-ready: its inputs, matrix, HVPs taken and the Newton step.

    >>> from pathad import trace
    >>> report = hessian_report(trace(lambda x, y: x * x * y, 3.0, 2.0))
    >>> report["matrix"], report["hvps"], report["newton_step"]
    ([[4.0, 6.0], [6.0, 0.0]], 2, [-1.5, -1.0])
    """
    H = hessian(tr)
    g = gradient(tr)
    g = np.array([g[name] for name in tr.inputs], dtype=np.float64)
    try:
        step = (-np.linalg.solve(H.matrix, g)).tolist()
    except np.linalg.LinAlgError:
        step = None
    return {"wrt": list(tr.inputs), "matrix": H.matrix.tolist(), "mode": H.mode, "hvps": H.hvps, "newton_step": step}


def newton_report(text, at, steps, name="f", tolerance=1e-12):
    """Newton's method on a formula from the point ``at``: up to ``steps`` steps x := x − H⁻¹∇f, each traced
    afresh; it stops when the next step is below ``tolerance`` (relative to the point) or H is singular.

    >>> report = newton_report("(x - 2)**2 + 3*(y + 1)**2", {"x": 0.0, "y": 0.0}, 5)
    >>> [it["point"] for it in report["iterations"]], report["stopped"]
    ([{'x': 0.0, 'y': 0.0}, {'x': 2.0, 'y': -1.0}], 'converged: the next step is below 1e-12 (after 1 steps)')
    """
    point = {k: float(v) for k, v in at.items()}
    iterations, stopped = [], f"after {steps} steps"
    for k in range(steps + 1):
        tr = _traced(text, point, name)
        g = gradient(tr)
        g = np.array([g[n] for n in point], dtype=np.float64)
        iterations.append({"point": dict(point), "value": tr.value, "gradient_norm": float(np.linalg.norm(g))})
        if k == steps:
            break
        try:
            step = -np.linalg.solve(hessian(tr).matrix, g)
        except np.linalg.LinAlgError:
            stopped = f"the Hessian is singular at step {k}"
            break
        if not np.isfinite(step).all():
            stopped = f"the Newton step is not finite at step {k}"
            break
        if np.abs(step).max() <= tolerance * max(1.0, max(abs(v) for v in point.values())):
            stopped = f"converged: the next step is below {tolerance:g} (after {k} steps)"
            break
        point = {n: v + float(d) for (n, v), d in zip(point.items(), step)}
    return {"iterations": iterations, "stopped": stopped}


def _print_hessian(report, name, out):
    names = report["wrt"]
    print(f"\nHessian of {name} ({report['hvps']} Hessian-vector products, {report['mode']}):", file=out)
    cells = [[_number(v) for v in row] for row in report["matrix"]]
    width = max([len(c) for row in cells for c in row] + [len(n) for n in names])
    print("  ".join([" " * max(len(n) for n in names)] + [n.rjust(width) for n in names]), file=out)
    for n, row in zip(names, cells):
        print("  ".join([n.ljust(max(len(m) for m in names))] + [c.rjust(width) for c in row]), file=out)
    step = report["newton_step"]
    if step is None:
        print("the Hessian is singular: no Newton step", file=out)
    else:
        print("Newton step -H⁻¹∇f: " + ", ".join(f"{n} {_number(v)}" for n, v in zip(names, step)), file=out)


def _print_newton(report, out):
    print("\nNewton's method:", file=out)
    for k, it in enumerate(report["iterations"]):
        point = ", ".join(f"{n} = {v!r}" for n, v in it["point"].items())
        print(f"  {k:3d}  {point}  f = {it['value']!r}  |∇f| = {it['gradient_norm']:.3e}", file=out)
    print(f"stopped: {report['stopped']}", file=out)


def _folded_note(tr):
    """What the drawing shows, when it is not the graph counted above: constant scalings folded into edges."""
    folded = fold_linear(tr)
    if folded.number_of_nodes() == tr.graph.number_of_nodes():
        return ""
    return (
        f" (drawn folded: {folded.number_of_nodes()} nodes, {folded.number_of_edges()} edges, "
        "each constant scaling such as 4*y merged into its edge's partial)"
    )


def _check_output_files(args):
    """Refuse unwritable output names before any work is done."""
    if args.draw is not None:
        suffix = Path(args.draw).suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            raise PathadError(f"--draw {args.draw}: the file's suffix gives the format, one of {', '.join(FORMATS)}")
    _check_directory("--draw", args.draw)
    _check_directory("--save", args.save)


def _check_directory(option, path):
    if path is not None and not Path(path).parent.is_dir():
        raise PathadError(f"{option} {path}: the directory {str(Path(path).parent)!r} does not exist")


def _write_files(tr, args):
    files = []
    if args.draw is not None:
        sweep = solve(tr, tr.output, direction="backward")
        title = f"{args.name} = {args.expression.strip()}: values, edge partials (blue), ∂{args.name}/∂node (green)"
        draw(tr, args.draw, fold=True, sweep=sweep, title=title)
        files.append(args.draw)
    if args.save is not None:
        writer = to_graphml if Path(args.save).suffix.lower() == ".graphml" else save
        writer(tr, args.save)
        files.append(args.save)
    return files


def _run_explain(args, out):
    at = parse_point(args.at)
    wrt = _checked_wrt(args.wrt, at)
    _check_name(args.name, at)
    tr = _traced(args.expression, at, args.name)
    symbolic = False if args.numbers else None
    for w in wrt:
        try:
            text = explain(tr, w, symbolic=symbolic, limit=args.limit)
        except TooManyPathsError:  # its message speaks Python (limit=); say it in the command's words
            count = count_paths(tr, w, tr.output)
            raise PathadError(
                f"there are {count:,} paths from {w} to {args.name}, more than --limit {args.limit:,}; "
                f"pass --limit {count} to write them all, or count them with --semiring counting "
                "and find the largest with --semiring max-times (pathad trace)"
            ) from None
        print(text, file=out)
    return 0


def _run_animate(args, out):
    at = parse_point(args.at)
    wrt = _checked_wrt(args.wrt, at)
    _check_name(args.name, at)
    if Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise PathadError(f"-o {args.output}: the page is HTML; name it .html")
    _check_directory("-o", args.output)
    tr = _traced(args.expression, at, args.name)
    if args.mode == "forward":
        if len(wrt) > 1 and args.wrt is not None:
            raise PathadError(f"--wrt {' '.join(wrt)}: a forward sweep starts at one input; give one")
        movie = animate(tr, wrt[0], semiring=args.semiring, fold=not args.unfolded)
    else:
        targets = None if args.wrt is None else wrt
        movie = animate(tr, direction="backward", targets=targets, semiring=args.semiring, fold=not args.unfolded)
    movie.save(args.output)
    print(f"{movie.direction} sweep, {args.semiring} semiring: {len(movie)} steps; {movie.answer}", file=out)
    print(f"wrote {args.output}", file=out)
    return 0


def _run_figures(args, out):
    figures(args.out, names=args.only, formats=tuple(args.format or ("svg", "png")), stream=out)
    return 0


_MAX_HOURS = 24  # pathad train refuses runs estimated to take longer
_PILOT_EPOCHS = 10_000  # more epochs than this: one epoch is timed first, to estimate the run


def _run_train(args, out):
    _check_directory("--curve", args.curve)
    if args.curve is not None:
        try:  # no matplotlib, or a format it cannot write: refused before training, not after it
            training.check_figure_path(args.curve)
        except ValueError as exc:
            raise PathadError(f"--curve: {exc}") from None
    if args.epochs > _PILOT_EPOCHS:
        _check_duration(args)
    result = nn.fit_dataset(
        args.dataset,
        epochs=args.epochs,
        seed=args.seed,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        progress=args.progress,
        curve=args.curve,
        backend=args.backend,
    )
    print(result.summary(), file=out)
    print(f"test accuracy: {result.test_accuracy:.2f}", file=out)
    return 0


def _check_duration(args):
    """Time one epoch; refuse a run estimated to take over _MAX_HOURS, warn (on stderr) about one over 10 minutes."""
    start = time.perf_counter()
    nn.fit_dataset(
        args.dataset,
        epochs=1,
        seed=args.seed,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        progress=False,
        backend=args.backend,
    )
    per_epoch = time.perf_counter() - start  # setup included: an estimate on the long side
    estimate = per_epoch * args.epochs
    if estimate > _MAX_HOURS * 3600:
        feasible = max(1, int(_MAX_HOURS * 3600 / per_epoch))
        raise PathadError(
            f"--epochs {args.epochs:,}: one epoch took {per_epoch:.2g} s here, so the run would take about "
            f"{_duration(estimate)}; ask for at most about {feasible:,} epochs (a day's worth)"
        )
    if estimate > 600:
        print(f"pathad train: this will take about {_duration(estimate)} ({per_epoch:.2g} s an epoch)", file=sys.stderr)


def _duration(seconds):
    """A rough duration in words: '3.2 hours', '41 years'."""
    for unit, length in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= length:
            return f"{seconds / length:,.2g} {unit}" if seconds / length < 100 else f"{seconds / length:,.0f} {unit}"
    return f"{seconds:.2g} seconds"


_RUN = {
    "trace": _run_trace,
    "explain": _run_explain,
    "animate": _run_animate,
    "figures": _run_figures,
    "train": _run_train,
}


def main(argv=None, out=None):
    """Entry point of the ``pathad`` console script; returns the exit status.

    Errors are one line on stderr with exit status 2.

    Examples
    --------
    >>> main(["trace", "x * y", "--at", "x=3", "y=5", "--mode", "backward"])
    f = x * y
    at x = 3, y = 5
    value: 15
    graph: 3 nodes, 2 edges, each edge labeled with its local partial
    <BLANKLINE>
           backward
    ∂f/∂x  5
    ∂f/∂y  3
    backward: 1 sweep, from f to all inputs at once (reverse mode, backpropagation)
    0
    """
    out = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (status 0) or a usage error (status 2, already reported)
        return exc.code
    if args.command in (None, "tour"):
        tour(out)
        return 0
    try:
        return _RUN[args.command](args, out)
    except (PathadError, OSError) as exc:
        print(f"pathad {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def version():
    """The installed pathad's version: its package metadata, else ``pathad.__version__``.

    >>> version() == __import__("pathad").__version__
    True
    """
    try:
        return importlib.metadata.version("pathad")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        import pathad

        return getattr(pathad, "__version__", "unknown")


def _one_line(exc):
    text = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split()) or type(exc).__name__


# --- the argument parser ----------------------------------------------------------------


def _parser():
    parser = _Parser(
        prog="pathad",
        description="Automatic differentiation as a path problem on a computation graph.",
        epilog=_EXAMPLES[None],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pathad {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_trace_parser(commands)
    _add_explain_parser(commands)
    _add_animate_parser(commands)
    _subparser(commands, "tour", "the lecture's running example h(x, y) at (3, 5), both sweeps")
    _add_figures_parser(commands)
    _add_train_parser(commands)
    return parser


def _subparser(commands, name, summary, usage=None):
    return commands.add_parser(
        name,
        usage=usage,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=_EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_formula_arguments(sub):
    sub.add_argument("expression", metavar="EXPR", help='the formula, e.g. "(x + 4*y) * ((x + y) * y)"')
    sub.add_argument(
        "--at",
        nargs="+",
        required=True,
        metavar="NAME=VALUE",
        help="the point: a value for every variable (x=3 y=5, or x=3,y=5; values may be pi/2 and the like)",
    )
    sub.add_argument(
        "--wrt", nargs="+", action="extend", metavar="NAME", help="the inputs to differentiate by (default: all)"
    )
    sub.add_argument("--name", default="f", help="the formula's name, as in ∂f/∂x (default: f)")


def _add_trace_parser(commands):
    sub = _subparser(
        commands,
        "trace",
        "trace a formula and print its value and partials by both sweeps",
        _FORMULA_USAGE.format("trace"),
    )
    _add_formula_arguments(sub)
    sub.add_argument(
        "--mode",
        choices=list(_MODES),
        default="both",
        help="forward (one sweep per input), backward (one sweep from the result) or both (default)",
    )
    sub.add_argument(
        "--semiring",
        type=_semiring_name,
        default="real",
        metavar="NAME",
        help="another path problem: counting (how many paths), boolean (does f depend on x), "
        "max-times (the most influential path), min-plus (fewest operations), max-plus (longest chain); "
        "default real (derivatives)",
    )
    sub.add_argument("--symbolic", action="store_true", help="also print each derivative as a formula (needs sympy)")
    sub.add_argument(
        "--hessian",
        action="store_true",
        help="also print the Hessian (by Hessian-vector products: a forward and a backward sweep each) and the "
        "Newton step -H⁻¹∇f",
    )
    sub.add_argument(
        "--newton",
        type=_positive_int,
        metavar="STEPS",
        help="minimise the formula by Newton's method from --at, at most STEPS steps, printing each iterate",
    )
    sub.add_argument("--draw", metavar="FILE", help="draw the graph with values and partials (.svg, .png, ...)")
    sub.add_argument("--save", metavar="FILE", help="save the graph: .json (pathad.load reads it) or .graphml")
    sub.add_argument("--json", action="store_true", help="print the results as JSON")
    sub.add_argument(
        "--source",
        choices=("forward", "backward"),
        help="print instead the straight-line Python program the sweep runs: backward, the adjoint program of "
        "the result; forward, the tangent program of each input of --wrt (pathad.adjoint_source, tangent_source)",
    )


def _semiring_name(text):
    name = text.lower().replace("_", "-")
    if name not in SEMIRING_NAMES:
        hint = " (for formulas use --symbolic)" if name == "symbolic" else ""
        raise argparse.ArgumentTypeError(f"unknown semiring {text!r}; choose from {', '.join(SEMIRING_NAMES)}{hint}")
    return name


def _add_explain_parser(commands):
    sub = _subparser(
        commands,
        "explain",
        "write each partial out as its sum over paths, term by term",
        _FORMULA_USAGE.format("explain"),
    )
    _add_formula_arguments(sub)
    sub.add_argument("--numbers", action="store_true", help="write the edge labels as numbers, not formulas")
    sub.add_argument(
        "--limit", type=_positive_int, default=32, help="refuse to write more terms than this (default: 32)"
    )


def _add_animate_parser(commands):
    sub = _subparser(
        commands,
        "animate",
        "write a web page that steps through a sweep of a formula's graph, edge term by edge term",
        _FORMULA_USAGE.format("animate") + " -o FILE.html",
    )
    _add_formula_arguments(sub)
    sub.add_argument("-o", "--output", required=True, metavar="FILE", help="the page to write (.html)")
    sub.add_argument(
        "--mode",
        choices=["forward", "backward"],
        default="forward",
        help="forward: from one input (the first, or --wrt); backward: from the result to the inputs (default forward)",
    )
    sub.add_argument(
        "--semiring", type=_semiring_name, default="real", metavar="NAME", help="as for trace (default real)"
    )
    sub.add_argument("--unfolded", action="store_true", help="keep constant scalings such as 4*y as nodes")


def _add_figures_parser(commands):
    sub = _subparser(commands, "figures", "write the reproduced figures (svg and png) into a directory")
    sub.add_argument("--out", default="figures", help="directory to write into (default: figures)")
    sub.add_argument(
        "--only",
        nargs="+",
        choices=list(FIGURES),
        metavar="NAME",
        help=f"just these figures: {', '.join(FIGURES)}",
    )
    sub.add_argument(
        "--format",
        action="append",
        choices=["svg", "png", "jpeg", "pdf", "dot"],
        help="a format to write (repeatable; default: svg and png; pdf needs Graphviz's dot)",
    )


def _add_train_parser(commands):
    sub = _subparser(commands, "train", "train a small network on a dataset and report its test accuracy")
    sub.add_argument("--dataset", required=True, choices=list(nn.SETUPS), help=_dataset_help())
    sub.add_argument(
        "--epochs",
        required=True,
        type=_positive_int,
        help=f"passes over the training data (runs estimated to take over {_MAX_HOURS} hours are refused)",
    )
    sub.add_argument("--seed", type=_natural_int, default=0, help="random seed (default: 0)")
    sub.add_argument("--batch-size", type=_positive_int, help="examples per step (default: the dataset's)")
    sub.add_argument("--learning-rate", type=_positive_float, help="step size η (default: the dataset's)")
    sub.add_argument("--curve", metavar="FILE", help="also write the learning curve to FILE")
    sub.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    sub.add_argument(
        "--backend",
        choices=["auto", "numpy", "numba"],
        default="auto",
        help="who runs the recorded circuit: numpy, numba (compiled once per machine, then cached), or auto "
        "(numba when compiled already or when the run is long enough to pay for it; the default)",
    )


def _dataset_help():
    """What each --dataset trains, read from the setups :func:`pathad.nn.fit_dataset` builds."""
    nets = []
    for name, setup in nn.SETUPS.items():
        sizes = "-".join(map(str, setup.sizes))
        output = "softmax" if setup.output == "linear" else f"{setup.output} output"
        nets.append(f"{name} ({sizes}, {setup.activation} hidden units, {output})")
    return "the dataset and its network: " + ", ".join(nets)


def _positive_int(text):
    value = _natural_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def _natural_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}, which overflows to {value}")
    if not value > 0:  # also nan
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
