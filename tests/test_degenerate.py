"""Degenerate programs: outputs that are inputs, and outputs that depend on no input (constants).

A constant output is a node of its own (a ``mul`` of two constants, without in-edges); its derivatives are
exactly 0 by every route (both sweeps, Jacobian rows, replay on both backends), the derivative functions warn
naming it, and the command line prints 0 and says why.
"""

import io
import json
import os
import tempfile
import warnings

import numpy as np
import pytest

import pathad
from pathad import cli
from pathad.compiled import numba_available

NUMBA = pytest.mark.skipif(not numba_available(), reason="numba is not installed (pip install pathad[fast])")
BACKENDS = pytest.mark.parametrize("backend", ["numpy", pytest.param("numba", marks=NUMBA)])
MODES = pytest.mark.parametrize("mode", ["backward", "forward"])


def quiet_trace(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pathad.trace(f, *args)


# --- outputs that are inputs -------------------------------------------------------------------


@MODES
def test_identity(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an input is no constant: no warning anywhere
        tr = pathad.trace(lambda x: x, 2.0)
        assert tr.value == 2.0 and tr.graph.number_of_nodes() == 1 and tr.constant_outputs == ()
        assert pathad.gradient(tr, mode=mode) == {"x": 1.0}
        assert pathad.jacobian(tr, mode=mode).matrix.tolist() == [[1.0]]


@MODES
def test_an_input_returned_twice(mode):
    tr = pathad.trace(lambda x, y: (x, x, y * x), 2.0, 3.0)
    assert tr.outputs == [0, 0, 2]
    J = pathad.jacobian(tr, mode=mode)
    assert J.matrix.tolist() == [[1.0, 0.0], [1.0, 0.0], [3.0, 2.0]]


@BACKENDS
def test_a_branch_returning_an_input(backend):
    def f(x, y):
        return x if x > y else x * y

    tr = pathad.trace(f, 3.0, 2.0)
    assert pathad.gradient(tr) == {"x": 1.0, "y": 0.0}
    tape = pathad.compile(tr, backend=backend)
    assert tape.gradient(x=5.0, y=1.0) == {"x": 1.0, "y": 0.0}
    assert tape.evaluate(x=np.array([5.0, 6.0]), y=1.0).tolist() == [5.0, 6.0]
    g = tape.gradient(x=np.array([5.0, 1.0]), y=np.array([1.0, 2.0]), retrace=f)
    assert g["x"].tolist() == [1.0, 2.0] and g["y"].tolist() == [0.0, 1.0]


# --- constant outputs -------------------------------------------------------------------------


def test_a_constant_output_alone_traces_with_a_warning():
    with pytest.warns(UserWarning, match=r"no output of constant depends on any input: constant is a constant"):
        tr = pathad.trace(constant, 1.0)
    assert tr.value == 3.0 and tr.constant_outputs == ("constant",)
    node = tr.graph.nodes[tr.output]
    assert node["op"] == "mul" and node["consts"] == ((0, 3.0), (1, 1.0)) and tr.graph.in_degree(tr.output) == 0


@MODES
def test_derivatives_of_a_constant_are_zero_with_a_warning_naming_it(mode):
    tr = quiet_trace(constant, 1.0)
    with pytest.warns(UserWarning, match=r"^constant does not depend on any input; its derivatives are 0$"):
        assert pathad.gradient(tr, mode=mode) == {"x": 0.0}
    with pytest.warns(UserWarning, match=r"constant does not depend"):
        assert pathad.derivative(tr, "x", mode=mode) == 0.0
    with pytest.warns(UserWarning, match=r"constant does not depend"):
        assert pathad.jacobian(tr, mode=mode).matrix.tolist() == [[0.0]]


@MODES
def test_a_constant_mixed_in_a_tuple(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # x reaches an output: tracing does not warn
        tr = pathad.trace(pair, 2.0)
    assert tr.value == (2.0, 0) and tr.constant_outputs == ("pair[1]",)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the output differentiated depends on x: no warning
        assert pathad.gradient(tr, of="x", mode=mode) == {"x": 1.0}
    with pytest.warns(UserWarning, match=r"^pair\[1\] does not depend on any input; its derivatives are 0$"):
        J = pathad.jacobian(tr, mode=mode)
    assert J.matrix.tolist() == [[1.0], [0.0]]


def test_constants_mixed_in_dicts_and_arrays():
    def f(v):
        return {"mixed": np.array([v[0] * 2.0, 5.0, v[1]], dtype=object), "zero": 0.0, "total": np.sum(v)}

    tr = pathad.trace(f, np.array([1.0, 2.0]))
    assert tr.value["mixed"].tolist() == [2.0, 5.0, 2.0] and tr.value["zero"] == 0.0
    assert set(tr.constant_outputs) == {"mixed[1]", "zero"}
    with pytest.warns(UserWarning) as record:
        J = pathad.jacobian(tr)
    assert sorted(str(w.message).split()[0] for w in record) == ["mixed[1]", "zero"]
    np.testing.assert_array_equal(J.blocks["mixed"]["v"], [[2.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    assert J.blocks["zero"]["v"].tolist() == [0.0, 0.0]


def test_a_float_array_output_is_all_constants():
    with pytest.warns(UserWarning, match=r"no output of <lambda> depends on any input"):
        tr = pathad.trace(lambda x: np.zeros(2), 1.0)
    assert tr.value.tolist() == [0.0, 0.0] and len(tr.constant_outputs) == 2


def test_non_numbers_are_still_errors():
    with pytest.raises(pathad.NoDependenceError, match=r"<lambda> returned None, which is not a number"):
        pathad.trace(lambda x: None, 1.0)
    with pytest.raises(pathad.NoDependenceError, match=r"<lambda>\[1\] returned 'a', which is not a number"):
        pathad.trace(lambda x: (x, "a"), 1.0)
    with pytest.raises(pathad.NoDependenceError, match=r"returned True"):
        pathad.trace(lambda x: x > 0, 1.0)
    with pytest.raises(pathad.NoDependenceError, match=r"not a finite number"):
        pathad.trace(lambda x: (x, float("inf")), 1.0)


@BACKENDS
def test_replay_of_constant_outputs(backend):
    tr = quiet_trace(lambda x, y: (x * y, 2.5, {"c": -0.0}), 2.0, 3.0)
    tape = pathad.compile(tr, backend=backend)
    assert tape.evaluate(x=4.0, y=5.0) == (20.0, 2.5, {"c": 0.0})
    batch = tape.evaluate(x=np.array([1.0, 2.0, 3.0]), y=1.0)
    assert batch[0].tolist() == [1.0, 2.0, 3.0] and batch[1].tolist() == [2.5, 2.5, 2.5]
    assert tape.gradient(x=4.0, y=5.0, of="<lambda>[1]") == {"x": 0.0, "y": 0.0}
    g = tape.gradient(x=np.array([1.0, 2.0]), y=np.array([3.0, 4.0]), of="<lambda>[1]")
    assert g["x"].tolist() == [0.0, 0.0] and g["y"].tolist() == [0.0, 0.0]
    assert tape.value_and_gradient(x=4.0, y=5.0, of="<lambda>[0]") == (20.0, {"x": 5.0, "y": 4.0})


@BACKENDS
def test_replay_of_a_program_that_is_only_a_constant(backend):
    tape = pathad.compile(quiet_trace(constant, 1.0), backend=backend)
    assert tape.evaluate(x=7.0) == 3.0
    assert tape.value_and_gradient(x=np.array([1.0, 2.0]))[1]["x"].tolist() == [0.0, 0.0]


@BACKENDS
def test_compiled_sweeps_over_a_constant(backend):
    tr = quiet_trace(pair, 2.0)
    tape = pathad.compile(tr, backend=backend)
    assert tape.solve("x").get("pair[1]") is None
    assert tape.solve("pair[1]", direction="backward").to_dict() == {tr.outputs[1]: 1.0}


def test_graph_consumers_cope_with_constants():
    tr = quiet_trace(lambda x: (x * x, 4.0), 3.0)
    path = os.path.join(tempfile.mkdtemp(), "c.json")
    copy = pathad.load(pathad.save(tr, path))
    assert copy.value == (9.0, 4.0) and copy.constant_outputs == ("<lambda>[1]",)
    assert pathad.solve(tr, "x").get(tr.outputs[1]) is None
    assert str(pathad.symbolic_expression(tr, of="<lambda>[1]")) == "4"
    assert str(pathad.symbolic_derivative(tr, "x", of="<lambda>[1]")) == "0"
    drawing = os.path.join(tempfile.mkdtemp(), "c.svg")
    pathad.draw(tr, drawing, sweep=pathad.solve(tr, "x"))
    assert "<svg" in open(drawing, encoding="utf-8").read()
    assert pathad.count_paths(tr, "x", "<lambda>[1]") == 0
    pathad.fold_linear(tr)
    pathad.jacobian_cost(tr)


# --- the command line ---------------------------------------------------------------------------


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("error")  # the command line says it in words, not as a Python warning
        status = cli.main(list(argv), out=out)
    return status, out.getvalue(), err.getvalue()


def test_cli_prints_zero_and_says_why():
    status, out, err = run("trace", "3", "--at", "x=1")
    assert status == 0 and err == ""
    assert "value: 3" in out
    assert "∂f/∂x  0        0" in out
    assert out.rstrip().endswith("f does not depend on x: it is the constant 3, so every derivative is 0")


def test_cli_json_carries_the_note():
    status, out, _ = run("trace", "2.5", "--at", "x=1", "y=2", "--json")
    report = json.loads(out)
    assert status == 0 and report["backward"] == {"x": 0.0, "y": 0.0}
    assert report["notes"] == ["f does not depend on x or y: it is the constant 2.5, so every derivative is 0"]


def test_cli_a_zero_partial_is_not_a_constant():
    status, out, _ = run("trace", "x*0+2", "--at", "x=1")
    assert status == 0 and "∂f/∂x  0        0" in out and "does not depend" not in out


def test_cli_draw_and_other_semirings_on_a_constant():
    path = os.path.join(tempfile.mkdtemp(), "c.svg")
    status, out, _ = run("trace", "3", "--at", "x=1", "--draw", path, "--semiring", "counting")
    assert status == 0 and os.path.exists(path) and "no path leads to it" in out


def constant(x):
    return 3.0


def pair(x):
    return x, 0
