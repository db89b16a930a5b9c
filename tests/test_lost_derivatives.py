"""Every way a traced value can be asked for as a plain number is an error, never a silently lost derivative.

The oracle for "silently lost" is the true derivative: each program below has
one, and before these checks pathad returned another number without a word.
"""

import array
import math
import operator

import numpy as np
import pytest

import pathad
from pathad import LostDerivativeError

#: (description, program, what the message must name as the asking operation)
ASKING = [
    ("math.sin", lambda x: x * math.sin(x), "float()"),
    ("math.exp", lambda x: math.exp(x) + x, "float()"),
    ("math.sqrt", lambda x: math.sqrt(x), "float()"),
    ("math.fsum", lambda x: math.fsum([x, x]), "float()"),
    ("math.isclose", lambda x: x if math.isclose(x, 2.0) else -x, "float()"),
    ("float()", lambda x: x * float(x), "float()"),
    ("int()", lambda x: x * int(x), "int()"),
    ("complex()", lambda x: abs(complex(x)), "complex()"),
    ("operator.index", lambda x: operator.index(x) * x, "operator.index"),
    ("range()", lambda x: sum(x for _ in range(x)), "operator.index"),
    ("list index", lambda x: [x, 2 * x][x], "operator.index"),
    ("np.float64", lambda x: np.float64(x) * x, "float()"),
    ("float ndarray item", lambda x: _store(np.zeros(3), x), "float()"),
    ("float ndarray slice", lambda x: _store_slice(np.zeros(3), x), "float()"),
    ("np.array(dtype=float)", lambda x: np.sum(np.array([x, 1.0], dtype=float)), "float()"),
    ("np.asarray(dtype=float)", lambda x: np.asarray([x], dtype=np.float64)[0], "float()"),
    ("ndarray.astype(float)", lambda x: np.array([x], dtype=object).astype(float)[0], "float()"),
    ("array.array('d')", lambda x: array.array("d", [x])[0] * x, "float()"),
]


def _store(h, x):
    h[0] = x
    return h[0] + x


def _store_slice(h, x):
    h[:2] = [x, x]
    return h[1] + x


@pytest.mark.parametrize("name, program, asked", ASKING, ids=[case[0] for case in ASKING])
def test_asking_for_a_plain_number_is_an_error_naming_the_node_and_the_line(name, program, asked):
    with pytest.raises(LostDerivativeError) as caught:
        pathad.trace(program, x=2.0)
    message = str(caught.value)
    assert asked in message
    assert "x = 2.0 (node v0)" in message
    assert "test_lost_derivatives.py:" in message  # the line of user code that asked
    assert "pathad.sin or np.sin" in message and "dtype=object" in message and "x.value" in message


def test_the_error_is_a_type_error_too_so_existing_except_clauses_still_catch_it():
    with pytest.raises(TypeError):
        pathad.trace(lambda x: float(x), x=1.0)


def test_the_message_names_an_intermediate_node_by_its_label():
    def f(x):
        y = (x * 3.0).named("scaled")
        return math.sin(y)

    with pytest.raises(LostDerivativeError, match=r"scaled = 3.0 \(node v1\).*math.sin\(y\)"):
        pathad.trace(f, x=1.0)


def test_the_ways_out_give_the_true_derivatives():
    """The advice in the message works: numpy's or pathad's functions, object arrays, .value on purpose."""
    x0 = 1.0
    assert pathad.gradient(pathad.trace(lambda x: x * np.sin(x), x=x0))["x"] == pytest.approx(
        math.sin(x0) + x0 * math.cos(x0), rel=1e-15
    )
    assert pathad.gradient(pathad.trace(lambda x: x * pathad.sin(x), x=x0))["x"] == pytest.approx(
        1.3817732906760363, rel=1e-15
    )

    def stored(x):
        h = pathad.zeros(3)
        h[0] = x
        h[1] = x * x
        return np.sum(h)

    assert pathad.gradient(pathad.trace(stored, x=2.0))["x"] == 5.0
    assert pathad.gradient(pathad.trace(lambda x: x * x.value, x=2.0))["x"] == 2.0  # a deliberate constant


def test_math_floor_ceil_trunc_and_round_are_primitives_with_zero_derivative():
    tr = pathad.trace(lambda x: x * math.floor(x) + math.ceil(x) + math.trunc(x) + round(x) + round(x, 1), x=2.34)
    assert tr.value == pytest.approx(2.34 * 2 + 3 + 2 + 2 + 2.3)
    assert pathad.gradient(tr)["x"] == 2.0  # d/dx x·floor(x) = floor(x) away from the jumps


def test_formatting_and_printing_a_traced_value_is_allowed():
    seen = []

    def f(x):
        seen.append(f"{x:.2f} {x!r}")
        return x * x

    assert pathad.gradient(pathad.trace(f, x=1.5))["x"] == 3.0
    assert seen[0].startswith("1.50 Traced(1.5")


def test_replay_retraces_with_the_same_rule():
    """A compiled tape that retraces at a point taking another branch meets the same error there."""

    def f(x):
        return x * x if x > 0 else math.sin(x)

    tape = pathad.compile(pathad.trace(f, x=1.0), backend="numpy")
    assert tape.evaluate(x=2.0) == 4.0
    with pytest.raises(LostDerivativeError, match="float()"):
        tape.evaluate(x=-1.0, retrace=f)


def test_dual_numbers_refuse_plain_floats_too():
    with pytest.raises(TypeError, match="drop its derivative"):
        pathad.dual.derivative(lambda x: math.sin(x), 1.0)
