"""The program corpus (benchmarks/corpus.py): no silent wrong answers, and an oracle that can tell.

The corpus runs ~170 small programs through pathad (trace, and compiled replay)
and checks every value and derivative against finite differences.  pathad may
refuse a program ("unsupported": the library is still gaining functions), but it
must never return a wrong number ("mismatch").  The unsupported counts are
printed, not asserted.
"""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import pathad

CORPUS_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus.py"


def _import_corpus():
    spec = importlib.util.spec_from_file_location("corpus", CORPUS_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("corpus", module)
    spec.loader.exec_module(module)
    return module


corpus = _import_corpus()


def _analytic(values, derivatives):
    """A stand-in for pathad returning the given values and derivatives: ``method(f, point)``."""

    def method(f, point):
        return [values(**point)], {name: np.array([d(**point)]) for name, d in derivatives.items()}

    return method


def _mismatches(results):
    return [(p.name, column, o.message) for p, r in results for column, o in r.items() if o.status == "mismatch"]


def test_corpus_is_large_and_covers_the_categories():
    counts = {c: sum(p.category == c for p in corpus.PROGRAMS) for c in corpus.CATEGORIES}
    assert len(corpus.PROGRAMS) >= 120
    assert counts["scalar"] >= 30 and counts["ufunc"] >= 30 and counts["control"] >= 25
    assert counts["functions"] >= 15 and counts["arrays"] >= 20
    assert len({p.name for p in corpus.PROGRAMS}) == len(corpus.PROGRAMS)


def test_every_program_runs_on_plain_floats():
    broken = []
    for prog in corpus.PROGRAMS:
        for point in prog.points:
            try:
                corpus.oracle(prog.reference or prog.func, point)
            except Exception as exc:  # a corpus bug: the oracle must be able to run everything
                broken.append(f"{prog.name}: {type(exc).__name__}: {exc}")
    assert not broken, "\n".join(broken)


def test_trace_and_numpy_replay_give_no_wrong_numbers():
    results = corpus.run_corpus(methods=corpus.columns(numba=False))
    for column in ("trace", "numpy"):
        statuses = [r[column].status for _, r in results]
        print(f"{column}: {statuses.count('pass')} pass, {statuses.count('unsupported')} unsupported, "
              f"{statuses.count('skipped')} skipped")  # fmt: skip
    assert not [p.name for p, r in results if any(o.status == "broken" for o in r.values())]
    assert not _mismatches(results), "\n".join(map(str, _mismatches(results)))
    assert sum(r["trace"].status == "pass" for _, r in results) > 0


def test_numba_replay_gives_no_wrong_numbers():
    pytest.importorskip("numba")
    results = corpus.run_corpus(methods={"numba": corpus.replay_method("numba")})
    statuses = [r["numba"].status for _, r in results]
    print(f"numba: {statuses.count('pass')} pass, {statuses.count('unsupported')} unsupported")
    assert not _mismatches(results), "\n".join(map(str, _mismatches(results)))


def test_main_prints_a_line_per_program_and_returns_counts(capsys):
    counts = corpus.main(["--no-numba", "--category", "functions"])
    out = capsys.readouterr().out
    functions = [p for p in corpus.PROGRAMS if p.category == "functions"]
    assert all(p.name in out for p in functions) and "mismatch" in out
    assert set(counts) == {"trace", "numpy"}
    assert sum(counts["trace"].values()) == len(functions)
    assert counts["trace"]["mismatch"] == 0


KNOWN = [  # (program, point, {input: its analytic partial})
    (lambda x: x * np.sin(x), {"x": 0.9}, {"x": lambda x: np.sin(x) + x * np.cos(x)}),
    (
        lambda x, y: x**y,
        {"x": 1.7, "y": 2.2},
        {"x": lambda x, y: y * x ** (y - 1), "y": lambda x, y: x**y * np.log(x)},
    ),
    (
        lambda x: np.exp(-x * x) / (1 + x),
        {"x": -0.4},
        {"x": lambda x: -np.exp(-x * x) * (2 * x + 1 / (1 + x)) / (1 + x)},
    ),
    (lambda x: abs(x) ** 1.5, {"x": -3.0}, {"x": lambda x: -1.5 * abs(x) ** 0.5}),
    (lambda x: 1e6 * np.tanh(x / 100), {"x": 250.0}, {"x": lambda x: 1e4 * (1 - np.tanh(x / 100) ** 2)}),
]


@pytest.mark.parametrize("f, point, derivatives", KNOWN)
def test_oracle_agrees_with_known_derivatives(f, point, derivatives):
    values, oracle = corpus.oracle(f, point)
    assert values == [pytest.approx(f(**point), rel=1e-15)]
    for name, d in derivatives.items():
        assert oracle[name][0] == pytest.approx(d(**point), rel=1e-8, abs=1e-9)
    prog = corpus.Program("known", f, (point,), "scalar")
    assert corpus.check_program(prog, _analytic(f, derivatives)).status == "pass"


def test_oracle_catches_a_wrong_derivative():
    prog = corpus.Program("x_sin_x", lambda x: x * np.sin(x), ({"x": 0.9},), "scalar")
    lost_term = _analytic(lambda x: x * np.sin(x), {"x": lambda x: np.sin(x)})  # d/dx x sin x without its x cos x term
    outcome = corpus.check_program(prog, lost_term)
    assert outcome.status == "mismatch"
    assert outcome.message.startswith("d out[0]/d x at {x=0.9}: expected 1.3") and "got 0.78" in outcome.message
    slightly_off = _analytic(lambda x: x * np.sin(x), {"x": lambda x: np.sin(x) + x * np.cos(x) + 1e-5})
    assert corpus.check_program(prog, slightly_off).status == "mismatch"


def test_oracle_catches_a_wrong_value_and_a_missing_derivative():
    prog = corpus.Program("cube", lambda x, y: x**3 * y, ({"x": 1.5, "y": 2.0},), "scalar")
    partials = {"x": lambda x, y: 3 * x**2 * y, "y": lambda x, y: x**3}
    wrong_value = _analytic(lambda x, y: x**3 * y * (1 + 1e-10), partials)
    assert corpus.check_program(prog, wrong_value).message.startswith("value out[0]")
    missing = _analytic(lambda x, y: x**3 * y, {"x": lambda x, y: 3 * x**2 * y})
    assert corpus.check_program(prog, missing).message.startswith("no derivative for input 'y'")


def test_oracle_on_array_inputs_and_several_outputs():
    v = np.array([0.5, -1.2, 2.0])
    values, d = corpus.oracle(lambda v: np.sum(v**3), {"v": v})
    assert values == [pytest.approx(np.sum(v**3))]
    assert d["v"].shape == (1, 3) and np.allclose(d["v"][0], 3 * v**2, rtol=1e-9)
    values, d = corpus.oracle(lambda x, y: {"p": x * y, "q": math.exp(x)}, {"x": 0.3, "y": 2.0})
    assert np.allclose(d["x"], [2.0, math.exp(0.3)], rtol=1e-9) and np.allclose(d["y"], [0.3, 0.0], atol=1e-9)


def test_errors_are_unsupported_and_crashes_are_marked():
    prog = corpus.Program("p", lambda x: x * x, ({"x": 1.0},), "scalar")

    def refuses(f, point):
        raise pathad.DomainError("log at node v1 with operand x = -1.0: no real value\nmore detail")

    def crashes(f, point):
        raise KeyError("oops")

    refused = corpus.check_program(prog, refuses)
    assert (refused.status, refused.message, refused.expected_error) == (
        "unsupported", "DomainError: log at node v1 with operand x = -1.0: no real value", True)  # fmt: skip
    crashed = corpus.check_program(prog, crashes)
    assert crashed.status == "unsupported" and not crashed.expected_error


def test_lost_derivatives_are_never_silent():
    """math.sin(x) and float(x) on a traced x: pathad must refuse (or be right), never return the partial sum."""
    lost = [p for p in corpus.PROGRAMS if p.name.startswith("lost_")]
    assert len(lost) >= 5
    for prog, outcomes in corpus.run_corpus(lost, corpus.columns(numba=False)):
        assert outcomes["trace"].status != "mismatch", f"{prog.name}: {outcomes['trace'].message}"
