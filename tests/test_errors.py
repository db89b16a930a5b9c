"""Bad input gets a clear pathad error naming the operation, the node and the value."""

import networkx as nx
import numpy as np
import pytest

import pathad
from pathad import DomainError, NoDependenceError, PathadError, UnknownNodeError


@pytest.mark.parametrize(
    "f, x, message",
    [
        (lambda x: pathad.log(x - 3.0), 1.0, r"^log at node v2 with operand v1 = -2\.0: no real value \(math domain"),
        (lambda x: pathad.log(x * 0.0), 1.0, r"^log at node v2 with operand v1 = 0\.0: no real value"),
        (lambda x: pathad.sqrt(-x), 4.0, r"^sqrt at node v2 with operand v1 = -4\.0: no real value"),
        (
            lambda x: pathad.sqrt(x * 0.0),
            4.0,
            r"^sqrt at node v2 with operand v1 = 0\.0: the derivative in operand 0 does not exist there",
        ),
        (lambda x: 1.0 / (x - 2.0), 2.0, r"^div at node v2 with operands 1\.0, v1 = 0\.0: no real value"),
        (lambda x: x / 0, 2.0, r"^div at node v1 with operands x = 2\.0, 0: no real value \(float division"),
        (lambda x: (-x) ** 0.5, 2.0, r"^pow at node v2 with operands v1 = -2\.0, 0\.5: no real value"),
        (
            lambda x: (x - x - 1.0) ** x,
            2.0,
            r"^pow at node v3 with operands v2 = -1\.0, x = 2\.0: the derivative in operand 1",
        ),
        (
            lambda x: pathad.exp(x * 1000.0),
            2.0,
            r"^exp at node v2 with operand v1 = 2000\.0: the "
            r"result overflows: it is too large for a float$",
        ),
        (
            lambda x: x * 1e308 * 10.0,
            1.0,
            r"^mul at node v2 with operands v1 = 1e\+308, 10\.0: the "
            r"result overflows: it is too large for a float \(inf\)",
        ),
    ],
)
def test_domain_errors_name_op_node_and_value(f, x, message):
    with pytest.raises(DomainError, match=message):
        pathad.trace(f, x)


def test_domain_error_is_a_value_error_and_a_pathad_error():
    with pytest.raises(ValueError):
        pathad.trace(lambda x: pathad.log(-x), 1.0)
    assert issubclass(DomainError, PathadError)


def test_domain_error_on_plain_numbers_names_the_operation():
    with pytest.raises(DomainError, match=r"^log with operand -1\.0: no real value"):
        pathad.log(-1.0)


def test_an_output_that_depends_on_no_input_warns_and_has_zero_derivatives():
    with pytest.warns(UserWarning, match="no output of constant depends on any input"):
        tr = pathad.trace(constant, 1.0)
    with pytest.warns(UserWarning, match=r"constant does not depend on any input; its derivatives are 0"):
        assert pathad.gradient(tr) == {"x": 0.0}
    tr = pathad.trace(pair, 1.0)
    with pytest.warns(UserWarning, match=r"pair\[1\] does not depend on any input"):
        assert pathad.gradient(tr, of="pair[1]") == {"x": 0.0}
    with pytest.raises(NoDependenceError):
        pathad.trace(lambda x: None, 1.0)


def constant(x):
    return 3.0


def pair(x):
    return x * 2, 0


def test_unknown_input_lists_the_known_ones():
    tr = pathad.trace(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(UnknownNodeError, match=r"no node 'z'; the inputs are \['x', 'y'\]"):
        pathad.derivative(tr, "z")
    with pytest.raises(nx.NodeNotFound):
        pathad.gradient(tr, wrt=["x", 99])


def test_non_numeric_inputs():
    with pytest.raises(TypeError, match=r"input 'x' of <lambda> must be a real number, got str '3'"):
        pathad.trace(lambda x: x, "3")
    with pytest.raises(TypeError, match=r"input 'x\[1\]' of <lambda> must be a real number, got str"):
        pathad.trace(lambda x: x, np.array([1.0, "a"], dtype=object))
    with pytest.raises(TypeError, match=r"got bool"):
        pathad.trace(lambda x: x, True)
    with pytest.raises(ValueError, match=r"input 'x' of <lambda> must be finite, got nan"):
        pathad.trace(lambda x: x, float("nan"))
    with pytest.raises(TypeError, match=r"cannot call <lambda> with the given inputs"):
        pathad.trace(lambda x: x, 1.0, 2.0)
    with pytest.raises(TypeError, match=r"sin needs a real number, a traced value or a Dual, got str"):
        pathad.sin("x")


def test_mixing_two_traces():
    kept = []
    pathad.trace(lambda x: kept.append(x) or x, 1.0)
    with pytest.raises(pathad.MixedTraceError, match="mul: operands come from two different traces"):
        pathad.trace(lambda y: y * kept[0], 2.0)


def test_unsupported_operand_type_falls_back_to_python():
    with pytest.raises(TypeError, match="unsupported operand"):
        pathad.trace(lambda x: x + "a", 1.0)
