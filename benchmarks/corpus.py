"""A corpus of small real-world-style programs, differentiated by pathad and checked against finite differences.

Every program of :data:`PROGRAMS` (written in ``corpus_programs.py``) is run at
its points in up to three columns:

* **trace**: ``tr = pathad.trace(f, **point)``; the value ``tr.value`` and the
  derivatives, by :func:`pathad.gradient` (one output) or :func:`pathad.jacobian`
  (several);
* **numpy** and **numba**: the trace compiled (``pathad.compile(tr, backend=...)``)
  and replayed at the same point: ``tape.evaluate(**point)`` and
  ``tape.gradient(**point)`` (``of=`` each output in turn).  The numba column
  runs only when numba is importable.

The oracle is independent of pathad's differentiation: the program itself is
run on plain floats (float arrays), and each partial derivative of each output
is the 4th-order central difference::

    (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / (12 h),   h = 1e-4 * max(1, |x|)

one input element at a time.  A derivative passes when
``|got - expected| <= 1e-6 * max(1, |expected|)`` (relative or absolute error 1e-6),
a value when ``|got - expected| <= 1e-12 * max(|got|, |expected|) + 1e-15``
(relative 1e-12, with a tiny absolute floor for values that cancel to ~0).

Each column classifies a program as

* ``pass``: every value and derivative agrees at every point;
* ``unsupported``: pathad raised an error (its type and first line are kept;
  types other than ``PathadError``, ``TypeError`` and ``NotImplementedError``
  are marked as unexpected: a crash rather than a refusal);
* ``mismatch``: pathad returned a number that disagrees with the oracle, the
  worst outcome: a wrong answer given silently;
* ``skipped`` (replay columns only): tracing already failed.

Run ``python benchmarks/corpus.py`` for one line per program and a summary
table; ``--verbose`` adds the messages.  :func:`main` returns the counts.
"""

import argparse
import importlib.util
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import pathad

__all__ = [
    "PROGRAMS",
    "CATEGORIES",
    "Program",
    "Outcome",
    "DERIVATIVE_TOLERANCE",
    "VALUE_TOLERANCE",
    "flatten",
    "plain_run",
    "oracle",
    "compare",
    "check_program",
    "trace_method",
    "replay_method",
    "columns",
    "run_corpus",
    "reason",
    "main",
]


def _load_programs():
    """``corpus_programs.py`` next to this file, whether run as a script or imported by path."""
    if "corpus_programs" in sys.modules:
        return sys.modules["corpus_programs"]
    path = Path(__file__).resolve().parent / "corpus_programs.py"
    spec = importlib.util.spec_from_file_location("corpus_programs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_programs"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_programs = _load_programs()
PROGRAMS, CATEGORIES, Program = _programs.PROGRAMS, _programs.CATEGORIES, _programs.Program

#: Relative-or-absolute tolerance on derivatives (the 4th-order difference is good to ~1e-9 on these programs).
DERIVATIVE_TOLERANCE = 1e-6
#: Relative tolerance on values (pathad evaluates the same float operations as the plain run).
VALUE_TOLERANCE = 1e-12
_VALUE_FLOOR = 1e-15
_EXPECTED_ERRORS = (pathad.PathadError, TypeError, NotImplementedError)


@dataclass(frozen=True)
class Outcome:
    """One column's verdict on one program.

    Attributes
    ----------
    status : str
        "pass", "unsupported", "mismatch", "skipped" or "broken" (the plain
        float run itself failed: a corpus bug, not pathad's).
    message : str
        Empty on a pass; else the reason: ``"DomainError: log at ..."`` or
        ``"d f[0]/d x at {x=0.9}: expected 1.17, got 0.78"``.
    expected_error : bool
        For "unsupported": whether the error was a PathadError, TypeError or
        NotImplementedError (a refusal) rather than an unexpected crash.
    """

    status: str
    message: str = ""
    expected_error: bool = True


class _Skip(Exception):
    """Raised by a replay column when the program cannot even be traced."""


class _Unreadable(Exception):
    """pathad's answer has a shape the corpus cannot line up with the oracle's (counts as a mismatch)."""


def flatten(result):
    """The outputs of a program (a number, tuple, list, dict or array of them) as a list of floats.

    Examples
    --------
    >>> flatten((1.0, {"a": 2, "b": np.array([3.0, 4.0])}))
    [1.0, 2.0, 3.0, 4.0]
    """
    if isinstance(result, dict):
        return [v for item in result.values() for v in flatten(item)]
    if isinstance(result, (tuple, list)):
        return [v for item in result for v in flatten(item)]
    if isinstance(result, np.ndarray):
        return [v for item in result.ravel().tolist() for v in flatten(item)]
    return [float(result)]


def _as_float_inputs(point):
    return {name: np.array(value, dtype=float) if np.ndim(value) else float(value) for name, value in point.items()}


def plain_run(f, point):
    """The program's outputs on plain floats (copies of the point's arrays), flattened.

    Examples
    --------
    >>> plain_run(lambda x, v: (x * v).sum(), {"x": 2.0, "v": np.array([1.0, 3.0])})
    [8.0]
    """
    return flatten(f(**_as_float_inputs(point)))


def oracle(f, point):
    """Values and derivatives of ``f`` at ``point`` by 4th-order central differences on plain floats.

    Returns
    -------
    values : list of float
        The flattened outputs.
    derivatives : dict
        Input name -> array of shape ``(n_outputs, *input_shape)``: ∂output[i]/∂input.

    Examples
    --------
    >>> values, d = oracle(lambda x, y: (x * y, x + y), {"x": 2.0, "y": 3.0})
    >>> values, np.round(d["x"], 9).tolist(), np.round(d["y"], 9).tolist()
    ([6.0, 5.0], [3.0, 1.0], [2.0, 1.0])
    """
    base = _as_float_inputs(point)
    values = flatten(f(**base))
    derivatives = {}
    for name, value in base.items():
        shape = np.shape(value)
        columns = []
        for index in np.ndindex(*shape) if shape else [()]:
            x = float(np.asarray(value)[index])
            h = 1e-4 * max(1.0, abs(x))
            samples = []
            for step in (2, 1, -1, -2):
                moved = dict(base)
                if shape:
                    moved[name] = value.copy()
                    moved[name][index] = x + step * h
                else:
                    moved[name] = x + step * h
                samples.append(np.array(flatten(f(**moved))))
            columns.append((-samples[0] + 8 * samples[1] - 8 * samples[2] + samples[3]) / (12 * h))
        derivatives[name] = np.stack(columns, axis=-1).reshape((len(values),) + shape)
    return values, derivatives


def _close(got, expected, relative, floor=0.0):
    return abs(got - expected) <= relative * max(abs(got), abs(expected)) + floor


def _format_point(point):
    shown = (f"{k}={np.asarray(v).tolist()!r}" for k, v in point.items())
    return "{" + ", ".join(shown) + "}"


def compare(point, expected, got):
    """The first disagreement between the oracle's ``expected`` and pathad's ``got``, or "" when they agree.

    Both are ``(values, derivatives)`` as :func:`oracle` returns them.

    Examples
    --------
    >>> expected = ([1.0], {"x": np.array([2.0])})
    >>> compare({"x": 1.0}, expected, ([1.0], {"x": np.array([2.0 + 1e-9])}))
    ''
    >>> compare({"x": 1.0}, expected, ([1.0], {"x": np.array([2.5])}))
    'd out[0]/d x at {x=1.0}: expected 2.0, got 2.5'
    """
    (values, derivs), (got_values, got_derivs) = expected, got
    where = _format_point(point)
    if len(got_values) != len(values):
        return f"{len(got_values)} outputs at {where}, the plain run has {len(values)}"
    for i, (e, g) in enumerate(zip(values, got_values)):
        if not _close(g, e, VALUE_TOLERANCE, _VALUE_FLOOR):
            return f"value out[{i}] at {where}: expected {e!r}, got {g!r}"
    for name, e_array in derivs.items():
        g_array = got_derivs.get(name)
        if g_array is None:
            return f"no derivative for input {name!r} at {where}"
        if np.shape(g_array) != e_array.shape:
            return f"d/d {name} at {where}: shape {np.shape(g_array)}, expected {e_array.shape}"
        for index in np.ndindex(*e_array.shape):
            e, g = float(e_array[index]), float(g_array[index])
            if not (abs(g - e) <= DERIVATIVE_TOLERANCE * max(1.0, abs(e))):
                element = f"{name}[{', '.join(map(str, index[1:]))}]" if len(index) > 1 else name
                return f"d out[{index[0]}]/d {element} at {where}: expected {e!r}, got {g!r}"
    return ""


def _derivative_array(value, name, shape, n_outputs=1):
    array = np.asarray(value, dtype=float)
    if array.shape == shape and n_outputs == 1:
        return array[None, ...]
    try:
        return array.reshape((n_outputs,) + shape)
    except ValueError:
        raise _Unreadable(f"d/d {name} has shape {array.shape}, the input {shape}") from None


def _jacobian_columns(J, point, n_outputs):
    """Input name -> (n_outputs, *shape) from a :class:`pathad.Jacobian`, whose columns are ``J.wrt``."""
    matrix = np.asarray(J.matrix, dtype=float)
    shapes = {name: np.shape(value) for name, value in point.items()}
    if tuple(J.wrt) == tuple(point) and matrix.shape == (n_outputs, len(point)) and not any(shapes.values()):
        return {name: matrix[:, j] for j, name in enumerate(J.wrt)}
    sizes = [int(np.prod(s)) for s in shapes.values()]
    if matrix.shape != (n_outputs, sum(sizes)):
        raise _Unreadable(f"Jacobian of shape {matrix.shape} with columns {list(J.wrt)[:6]}")
    starts = np.cumsum([0] + sizes)
    return {name: matrix[:, a:b].reshape((n_outputs,) + shapes[name])
            for name, a, b in zip(point, starts[:-1], starts[1:])}  # fmt: skip


def trace_method(f, point):
    """pathad's values and derivatives of ``f`` at ``point``, by tracing: the trace column.

    Returns ``(values, derivatives)`` shaped as :func:`oracle`'s.
    """
    tr = pathad.trace(f, **point)
    values = flatten(tr.value)
    n = len(tr.outputs)
    if n == 1:
        g = pathad.gradient(tr)
        return values, {k: _derivative_array(g[k], k, np.shape(v)) for k, v in point.items() if k in g}
    return values, _jacobian_columns(pathad.jacobian(tr), point, n)


def replay_method(backend):
    """The replay column for ``backend``: trace, compile, then ``evaluate`` and ``gradient`` at the same point.

    Returns a function ``(f, point) -> (values, derivatives)``; it raises
    ``_Skip`` when tracing itself fails (so the column reports "skipped").
    """

    def replay(f, point):
        try:
            tr = pathad.trace(f, **point)
        except Exception as exc:
            raise _Skip(str(exc)) from exc
        tape = pathad.compile(tr, backend=backend)
        values = flatten(tape.evaluate(**point))
        n = len(tr.outputs)
        per_output = [tape.gradient(of=None if n == 1 else node, **point) for node in tr.outputs]
        derivatives = {}
        for name, value in point.items():
            if any(name not in g for g in per_output):
                continue
            rows = [_derivative_array(g[name], name, np.shape(value)) for g in per_output]
            derivatives[name] = np.concatenate(rows, axis=0)
        return values, derivatives

    replay.__name__ = f"replay_{backend}"
    return replay


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def check_program(prog, method):
    """Run one column (``method(f, point) -> (values, derivatives)``) on one program at all its points.

    Examples
    --------
    >>> prog = Program("cube", lambda x: x**3, ({"x": 2.0},), "scalar")
    >>> check_program(prog, lambda f, p: ([8.0], {"x": np.array([12.0])})).status
    'pass'
    >>> wrong = check_program(prog, lambda f, p: ([8.0], {"x": np.array([11.0])}))
    >>> wrong.status, wrong.message.endswith("got 11.0")
    ('mismatch', True)
    """
    verdict = None
    for point in prog.points:
        try:
            expected = oracle(prog.reference or prog.func, point)
        except Exception as exc:
            return Outcome("broken", f"the plain run fails: {_first_line(exc)}")
        try:
            got = method(prog.func, point)
        except _Skip as exc:
            return Outcome("skipped", f"not traced: {exc}".splitlines()[0])
        except _Unreadable as exc:
            return Outcome("mismatch", f"at {_format_point(point)}: {exc}")
        except Exception as exc:
            verdict = verdict or Outcome("unsupported", _first_line(exc), isinstance(exc, _EXPECTED_ERRORS))
            continue
        problem = compare(point, expected, got)
        if problem:
            return Outcome("mismatch", problem)
    return verdict or Outcome("pass")


def columns(numba=None):
    """{column name: method}: trace, numpy replay, and numba replay when numba is importable (or asked for)."""
    found = {"trace": trace_method, "numpy": replay_method("numpy")}
    if numba is None:
        numba = importlib.util.find_spec("numba") is not None
    if numba:
        found["numba"] = replay_method("numba")
    return found


def run_corpus(programs=None, methods=None):
    """[(program, {column: Outcome})] for every program (default: all of :data:`PROGRAMS`, all columns)."""
    programs = PROGRAMS if programs is None else programs
    methods = columns() if methods is None else methods
    return [(prog, {name: check_program(prog, m) for name, m in methods.items()}) for prog in programs]


def _summary(results, methods):
    counts = {name: Counter(o.status for _, outcomes in results for o in [outcomes[name]]) for name in methods}
    statuses = ["pass", "unsupported", "mismatch", "skipped", "broken"]
    lines = [f"{'':12}" + "".join(f"{name:>10}" for name in methods)]
    for status in statuses:
        if status in ("skipped", "broken") and not any(counts[n][status] for n in methods):
            continue
        lines.append(f"{status:12}" + "".join(f"{counts[n][status]:>10}" for n in methods))
    crashes = {n: sum(o.status == "unsupported" and not o.expected_error for _, r in results for o in [r[n]])
               for n in methods}  # fmt: skip
    lines.append(f"{'(crashes)':12}" + "".join(f"{crashes[n]:>10}" for n in methods))
    lines.append(f"{'total':12}" + "".join(f"{len(results):>10}" for _ in methods))
    return counts, "\n".join(lines)


def reason(message):
    """An unsupported message with its particulars (names, numbers, arrays, source lines) blanked, for grouping.

    Examples
    --------
    >>> reason("TypeError: input 'v' of norm must be a real number, got ndarray array([1.0])")
    "TypeError: input '…' of <program> must be a real number, got ndarray array(…)"
    """
    text = message.split(";")[0]
    text = re.sub(r" at \S+\.py:\d+.*", "", text)
    text = re.sub(r"array\(.*", "array(…)", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\b(of |^\w+: )\w+ (must|returned)", r"\1<program> \2", text)
    text = re.sub(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?\b", "N", text)
    return text[:120]


def _reasons(results, column):
    """The unsupported messages of a column grouped by :func:`reason`: [(reason, count)], most common first."""
    return Counter(
        reason(o.message) for _, r in results for o in [r[column]] if o.status == "unsupported"
    ).most_common()


def main(argv=None):
    """Run the corpus, print a line per program and the summary; return {column: Counter of statuses}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="print each failing column's message")
    parser.add_argument("--no-numba", action="store_true", help="skip the numba replay column")
    parser.add_argument("--only", metavar="TEXT", help="run only the programs whose name contains TEXT")
    parser.add_argument("--category", choices=CATEGORIES, help="run only one category")
    args = parser.parse_args(argv)
    methods = columns(numba=False if args.no_numba else None)
    programs = [p for p in PROGRAMS if (args.only is None or args.only in p.name)
                and (args.category is None or p.category == args.category)]  # fmt: skip
    results = run_corpus(programs, methods)
    width = max((len(p.name) for p in programs), default=10) + 2
    print(f"{'program':{width}}{'category':11}" + "".join(f"{name:13}" for name in methods))
    for prog, outcomes in results:
        cells = "".join(f"{o.status + ('!' if not o.expected_error else ''):13}" for o in outcomes.values())
        print(f"{prog.name:{width}}{prog.category:11}{cells}".rstrip())
        for name, outcome in outcomes.items():
            if outcome.status in ("mismatch", "broken") or (args.verbose and outcome.status == "unsupported"):
                print(f"    {name}: {outcome.message[:240]}")
    counts, table = _summary(results, methods)
    print(f"\n{table}\n('!' and '(crashes)': an unexpected exception type, not a PathadError/TypeError)")
    mismatches = [(p.name, n, o.message) for p, r in results for n, o in r.items() if o.status == "mismatch"]
    if mismatches:
        print("\nMISMATCHES (a wrong number returned silently):")
        for name, column, message in mismatches:
            print(f"  {name} [{column}]: {message}")
    if args.verbose:
        for column in methods:
            grouped = _reasons(results, column)
            if grouped:
                print(f"\nunsupported in the {column} column, by reason:")
                for text, count in grouped:
                    print(f"  {count:4}  {text}")
    return counts


if __name__ == "__main__":
    main()
