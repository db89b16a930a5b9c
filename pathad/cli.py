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
import json
import math
import sys
import textwrap
import warnings
from pathlib import Path

from . import nn
from .animate import animate
from .derivatives import gradient
from .draw import FORMATS, draw
from .elimination import fold_linear
from .enumeration import explain
from .errors import PathadError
from .expressions import FUNCTIONS, ExpressionError, parse, parse_point
from .figures import FIGURES, make_figures
from .io import save, to_graphml
from .semirings import MAX_TIMES, as_semiring
from .solver import solve
from .symbolic import symbolic_derivative
from .tracing import trace

__all__ = ["main", "tour", "figures", "trace_report", "SEMIRING_NAMES"]

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
    graph = fold_linear(tr)
    print("h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5", file=out)
    print(f"value: {tr.value:g}", file=out)
    print(
        f"graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges "
        "(each edge carries its local partial)",
        file=out,
    )
    for mode, sweeps in (("forward", "one sweep per input"), ("backward", "one sweep for all inputs")):
        grad = gradient(tr, mode=mode)
        parts = ", ".join(f"∂h/∂{name} = {value:g}" for name, value in grad.items())
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
    graph = report["graph"]
    print(f"graph: {graph['nodes']} nodes, {graph['edges']} edges, each edge labeled with its local partial", file=out)
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
    for w in report[modes[0]]:
        row_name = f"∂{name}/∂{w}" if real else f"{w} → {name}"
        rows.append([row_name] + [_shown(report[mode][w]) for mode in modes])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


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


def _number(value):
    """920.0 -> '920'; other floats in full (repr), so nothing is rounded away."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


# --- running the subcommands -------------------------------------------------------


def _run_trace(args, out):
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
    files = _write_files(tr, args)
    if args.json:
        report["files"] = files
        print(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False), file=out)
        return 0
    _print_report(report, args.name, out)
    for file in files:
        print(f"wrote {file}", file=out)
    return 0


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
        print(explain(tr, w, symbolic=symbolic, limit=args.limit), file=out)
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


def _run_train(args, out):
    _check_directory("--curve", args.curve)
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
    sub.add_argument("--draw", metavar="FILE", help="draw the graph with values and partials (.svg, .png, ...)")
    sub.add_argument("--save", metavar="FILE", help="save the graph: .json (pathad.load reads it) or .graphml")
    sub.add_argument("--json", action="store_true", help="print the results as JSON")


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
    sub = _subparser(commands, "train", "train a small sigmoid network on a dataset and report its test accuracy")
    sub.add_argument("--dataset", required=True, choices=["xor", "iris", "digits"], help="the dataset")
    sub.add_argument("--epochs", required=True, type=_positive_int, help="passes over the training data")
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
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
