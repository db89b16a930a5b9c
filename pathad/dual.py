"""Dual numbers: forward-mode differentiation as an arithmetic, for cross-checks.

A dual number a + a'ε (with ε² = 0) carries a value a and a derivative a'.
Every operation applied to dual numbers computes the value and, by the chain
rule, the derivative of the result:

    op(a + a'ε, b + b'ε) = op(a, b) + (∂op/∂a · a' + ∂op/∂b · b')ε

The local partials ∂op/∂a are the edge labels of the computation graph, taken
from the same table the tracer uses (:data:`pathad.primitives.PRIMITIVES`), so a
dual number is a forward sweep that keeps only the path value of the node it is
at and never records the graph.  Seeding the input with derivative 1 (see
:meth:`Dual.variable`) makes the derivative of the result df/dx.

Plain real numbers mix in as constants (derivative 0), and numpy's ufuncs
(``np.sin``, ``np.exp``, ...) work on dual numbers.

Examples
--------
f(x) = √(3 sin x) at x = 2.  The steepest-descent blog post gets 1.6516332160855343
and -0.3779412091869595; the derivative here differs in the last bit, because
the post divides by 2√y where pathad multiplies by the edge label 1/(2√y):

>>> x = Dual.variable(2.0)
>>> sqrt(3 * sin(x))
Dual(1.6516332160855343, -0.37794120918695956)
>>> derivative(lambda x: x * x * x, 2.0)
12.0
"""

import math
import numbers

from . import functions
from .errors import DomainError, LostDerivativeError
from .functions import *  # noqa: F403  (pathad.sin and friends take Dual numbers too)
from .operators import PrimitiveArithmetic
from .primitives import DOMAIN_ERRORS, FLOAT
from .tracing import failure

__all__ = ["Dual", "apply", "derivative", *functions.__all__]

class Dual(PrimitiveArithmetic):
    """A dual number ``value + derivative·ε``.

    Parameters
    ----------
    value : real
    derivative : real, default 0
        The derivative carried along; 0 makes a constant.

    Examples
    --------
    >>> a = Dual(3.0, 1.0)
    >>> a * a + 2 * a, (a * a).derivative
    (Dual(15.0, 8.0), 6.0)
    >>> Dual(3.0, 1.0) == 3, Dual(3.0, 1.0) < 4, bool(Dual(0.0, 1.0))  # by value, as traced numbers compare
    (True, True, False)
    """

    __slots__ = ("value", "derivative")

    def __init__(self, value: float, derivative: float = 0.0) -> None:
        for name, number in (("value", value), ("derivative", derivative)):
            if isinstance(number, bool) or not isinstance(number, numbers.Real):
                raise TypeError(f"the {name} of a Dual must be a real number, got {type(number).__name__}")
        self.value = float(value)
        self.derivative = float(derivative)

    @classmethod
    def variable(cls, value: float) -> "Dual":
        """The independent variable at ``value``: derivative 1, so results carry d/d(this).

        >>> Dual.variable(2.0)
        Dual(2.0, 1.0)
        """
        return cls(value, 1.0)

    def __repr__(self):
        return f"Dual({self.value!r}, {self.derivative!r})"

    # comparisons act on values, as a traced number's do (pathad.Traced): ``if x == 0``, ``if x`` and ``<``
    # take the same branch on a Dual as in the trace; compare .derivative to tell two derivatives apart
    def __lt__(self, other):
        return self.value < _value(other)

    def __le__(self, other):
        return self.value <= _value(other)

    def __gt__(self, other):
        return self.value > _value(other)

    def __ge__(self, other):
        return self.value >= _value(other)

    def __eq__(self, other):
        if not isinstance(other, (Dual, numbers.Real)):
            return NotImplemented
        return self.value == _value(other)

    def __ne__(self, other):
        if not isinstance(other, (Dual, numbers.Real)):
            return NotImplemented
        return self.value != _value(other)

    __hash__ = None  # type: ignore[assignment]  # == compares values: a set of duals would merge different derivatives without a word

    def __bool__(self):
        return self.value != 0

    def _lost(self, asked):  # float(), int(), ... refused by PrimitiveArithmetic: the derivative would be lost
        return LostDerivativeError(
            f"{asked} of a Dual would drop its derivative; use .value (or pathad.dual's functions), got {self!r}"
        )


def _value(operand):
    return operand.value if isinstance(operand, Dual) else operand


def apply(primitive, *operands):
    """Apply a primitive to dual numbers (and plain reals): value by its value rule,
    derivative by the chain rule over its partial rules.

    With no dual operand it is plain float arithmetic.  Returns
    ``NotImplemented`` for operands that are neither, so Python's operator
    protocol can try the other side.  A dual operand whose derivative is 0 is
    treated as a constant (its partial is not needed, nor computed).

    Raises
    ------
    pathad.DomainError
        If the value or a needed partial does not exist (log of a negative,
        the derivative of sqrt at 0, division by zero).

    Examples
    --------
    >>> from pathad.primitives import PRIMITIVES
    >>> apply(PRIMITIVES["mul"], Dual(3.0, 1.0), 5.0)
    Dual(15.0, 5.0)
    """
    values = []
    for operand in operands:
        if isinstance(operand, Dual):
            values.append(operand.value)
        elif isinstance(operand, numbers.Real):
            values.append(float(operand))
        else:
            return NotImplemented
    result = _checked(primitive, operands, "", primitive.value, values)
    if not any(isinstance(operand, Dual) for operand in operands):
        return result
    total = 0.0
    for position, operand in enumerate(operands):
        if isinstance(operand, Dual) and operand.derivative != 0:
            where = f" (its derivative in operand {position})"
            total += _checked(primitive, operands, where, primitive.partials[position], values, result) * (
                operand.derivative
            )
    if math.isinf(total):
        raise _domain_error(primitive, operands, f"the derivative overflows: it is too large for a float ({total})")
    if not math.isfinite(total):
        raise _domain_error(primitive, operands, f"the derivative is {total}")
    return Dual(result, total)


Dual._apply = staticmethod(apply)  # the hook through which every operator of a Dual computes


def _checked(primitive, operands, where, rule, values, *result):
    """rule(FLOAT, *values, *result) as a finite float, or a DomainError naming the operation."""
    try:
        number = rule(FLOAT, *values, *result)
    except DOMAIN_ERRORS as exc:
        raise _domain_error(primitive, operands, failure(exc, "the result", where)) from None
    if math.isinf(number):  # finite operands: the number was too large for a float
        raise _domain_error(primitive, operands, f"the result{where} overflows: it is too large for a float ({number})")
    if not math.isfinite(number):
        raise _domain_error(primitive, operands, f"the result{where} is {number}")
    return float(number)


def _domain_error(primitive, operands, reason):
    plural = "s" if len(operands) > 1 else ""
    shown = ", ".join(repr(o) for o in operands)
    return DomainError(f"{primitive.name} with operand{plural} {shown}: {reason}")


def derivative(f, x):
    """df/dx at ``x``, by evaluating ``f`` once on the dual number ``x + ε``.

    ``f`` must use arithmetic and the functions of this module (or numpy's
    ufuncs), not :mod:`math`, which would need a plain float.

    Examples
    --------
    >>> derivative(lambda x: sqrt(3 * sin(x)), 2.0)
    -0.37794120918695956
    """
    result = f(Dual.variable(x))
    return result.derivative if isinstance(result, Dual) else 0.0
