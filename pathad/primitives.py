"""The one table of primitive operations.

Each :class:`Primitive` keeps together everything pathad knows about an operation:
its name, display symbol, value rule and one *local partial* rule per operand.  A
partial rule is the label the lecture puts on the edge from the operand to the
result (CS701 notes, section 5): for an n-ary operator the label on the j-th
operand's edge is the value of ∂op/∂f_j.  Rules may use the operation's result, as
the lecture's labels for sqrt (1/(2v)) and sigmoid (v(1-v)) do.

Rules are written once, against a *math namespace* ``m`` that supplies exp, log,
sin, ...: :data:`FLOAT` evaluates them on Python floats; a symbolic namespace
(sympy) or an array namespace (numpy) can evaluate the very same rules.

Adding an operation is one entry in :data:`PRIMITIVES`.

Examples
--------
>>> PRIMITIVES["mul"].value(FLOAT, 3.0, 5.0)
15.0
>>> [rule(FLOAT, 3.0, 5.0, 15.0) for rule in PRIMITIVES["mul"].partials]
[5.0, 3.0]
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["DOMAIN_ERRORS", "Primitive", "PRIMITIVES", "FLOAT", "FloatMath", "ARRAY", "ArrayMath", "UNARY", "BINARY"]


class FloatMath:
    """The math namespace for Python floats (numerically careful where it matters).

    Errors are the ones Python's ``math`` raises (ValueError, ZeroDivisionError,
    OverflowError); the tracer turns them into :class:`pathad.DomainError`.
    """

    exp = staticmethod(math.exp)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    tan = staticmethod(math.tan)
    tanh = staticmethod(math.tanh)

    @staticmethod
    def pow(a, b):
        """``a ** b`` on the reals: a negative base with a fractional exponent is an error."""
        result = a**b
        if isinstance(result, complex):
            raise ValueError("a negative base needs an integer exponent")
        return result

    @staticmethod
    def sigmoid(a):
        """1 / (1 + e^-a), without overflow for large |a|."""
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)

    @staticmethod
    def relu(a):
        """max(a, 0)."""
        return a if a > 0 else 0.0

    @staticmethod
    def step(a):
        """1 where a > 0, else 0 (the derivative of relu; 0 at the kink, as PyTorch and JAX use)."""
        return 1.0 if a > 0 else 0.0

    @staticmethod
    def sign(a):
        """-1, 0 or 1 (the derivative of abs; 0 at the kink)."""
        return float((a > 0) - (a < 0))


FLOAT = FloatMath()

#: What FloatMath's rules raise outside their domain; callers turn these into pathad.DomainError.
DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


class ArrayMath:
    """The math namespace for numpy arrays: the same functions as :class:`FloatMath`, elementwise.

    Used to replay a recorded program on a batch of points
    (:mod:`pathad.compiled`).  Outside a function's domain numpy gives nan or
    inf instead of raising (``log(-1)``, ``1/0``, ``(-8) ** (1/3)``); the replay
    checks for them and raises :class:`pathad.DomainError` naming the node.

    Examples
    --------
    >>> ARRAY.sigmoid(np.array([-800.0, 0.0, 800.0])).tolist()
    [0.0, 0.5, 1.0]
    >>> ARRAY.relu(np.array([-1.0, 2.0])).tolist(), ARRAY.step(np.array([0.0, 3.0])).tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    tanh = staticmethod(np.tanh)
    pow = staticmethod(np.power)
    sign = staticmethod(np.sign)

    @staticmethod
    def sigmoid(a):
        """1 / (1 + e^-a) for a >= 0 and e^a / (1 + e^a) below, as FloatMath: no overflow."""
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    @staticmethod
    def relu(a):
        """max(a, 0), elementwise."""
        return np.where(a > 0, a, 0.0)

    @staticmethod
    def step(a):
        """1 where a > 0, else 0 (0 at the kink, as FloatMath)."""
        return np.where(a > 0, 1.0, 0.0)


ARRAY = ArrayMath()


@dataclass(frozen=True)
class Primitive:
    """One operation: its value rule and the local partial of each operand.

    Attributes
    ----------
    name : str
        The ``op`` attribute of the nodes it creates.
    symbol : str
        How drawings and formulas show it ("+", "·", "sin", ...).
    value : callable
        ``value(m, *operands) -> result``.
    partials : tuple of callables
        ``partials[j](m, *operands, result)`` is ∂result/∂operand_j, the label of
        the edge from operand j.
    infix : bool
        Whether the symbol is written between the operands (``a + b``) or before
        them (``sin(a)``).
    """

    name: str
    symbol: str
    value: Callable
    partials: tuple
    infix: bool = False

    @property
    def arity(self):
        """The number of operands."""
        return len(self.partials)

    def __repr__(self):
        return f"Primitive({self.name!r}, arity={self.arity})"


# --- value and partial rules, one short named function each -----------------
# Binary rules take (m, a, b) for the value and (m, a, b, r) for a partial, where
# r is the result; unary rules take (m, a) and (m, a, r).  Literals are ints, so
# a symbolic namespace gets exact coefficients (the tracer converts to float).


def _add(m, a, b):
    return a + b


def _sub(m, a, b):
    return a - b


def _mul(m, a, b):
    return a * b


def _div(m, a, b):
    return a / b


def _pow(m, a, b):
    return m.pow(a, b)


def _one(m, a, b, r):
    return 1


def _minus_one(m, a, b, r):
    return -1


def _second(m, a, b, r):
    return b


def _first(m, a, b, r):
    return a


def _div_numerator(m, a, b, r):
    return 1 / b


def _div_denominator(m, a, b, r):
    return -r / b


def _pow_base(m, a, b, r):
    # b·a^(b-1); written as b·r/a it would fail at a = 0, where a^(b-1) may be fine.
    return b * m.pow(a, b - 1) if b != 0 else 0 * a


def _pow_exponent(m, a, b, r):
    return r * m.log(a)


def _neg(m, a):
    return -a


def _neg_partial(m, a, r):
    return -1


def _abs(m, a):
    return abs(a)


def _abs_partial(m, a, r):
    return m.sign(a)


def _exp(m, a):
    return m.exp(a)


def _exp_partial(m, a, r):
    return r


def _log(m, a):
    return m.log(a)


def _log_partial(m, a, r):
    return 1 / a


def _sqrt(m, a):
    return m.sqrt(a)


def _sqrt_partial(m, a, r):
    return 1 / (2 * r)  # the lecture's label 1/(2v)


def _sin(m, a):
    return m.sin(a)


def _sin_partial(m, a, r):
    return m.cos(a)


def _cos(m, a):
    return m.cos(a)


def _cos_partial(m, a, r):
    return -m.sin(a)


def _tan(m, a):
    return m.tan(a)


def _tan_partial(m, a, r):
    return 1 + r * r


def _tanh(m, a):
    return m.tanh(a)


def _tanh_partial(m, a, r):
    return 1 - r * r


def _sigmoid(m, a):
    return m.sigmoid(a)


def _sigmoid_partial(m, a, r):
    return r * (1 - r)  # the lecture's label v(1-v)


def _relu(m, a):
    return m.relu(a)


def _relu_partial(m, a, r):
    return m.step(a)


BINARY = (
    Primitive("add", "+", _add, (_one, _one), infix=True),
    Primitive("sub", "−", _sub, (_one, _minus_one), infix=True),
    Primitive("mul", "·", _mul, (_second, _first), infix=True),
    Primitive("div", "/", _div, (_div_numerator, _div_denominator), infix=True),
    Primitive("pow", "^", _pow, (_pow_base, _pow_exponent), infix=True),
)

UNARY = (
    Primitive("neg", "−", _neg, (_neg_partial,)),
    Primitive("abs", "abs", _abs, (_abs_partial,)),
    Primitive("exp", "exp", _exp, (_exp_partial,)),
    Primitive("log", "log", _log, (_log_partial,)),
    Primitive("sqrt", "√", _sqrt, (_sqrt_partial,)),
    Primitive("sin", "sin", _sin, (_sin_partial,)),
    Primitive("cos", "cos", _cos, (_cos_partial,)),
    Primitive("tan", "tan", _tan, (_tan_partial,)),
    Primitive("tanh", "tanh", _tanh, (_tanh_partial,)),
    Primitive("sigmoid", "σ", _sigmoid, (_sigmoid_partial,)),
    Primitive("relu", "relu", _relu, (_relu_partial,)),
)

#: Every primitive by name: the single source of truth for values and partials.
PRIMITIVES = {p.name: p for p in BINARY + UNARY}
