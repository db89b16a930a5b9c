"""Math functions for traced code: ``pathad.exp(x)``, ``pathad.sigmoid(W @ x)``, ...

Each works on a :class:`~pathad.tracing.Traced` number (recording one node), on a
:class:`~pathad.dual.Dual` number (carrying its derivative), on a plain real
number (returning a float) and elementwise on numpy arrays of these.
The matching numpy ufuncs (``np.exp``, ``np.sin``, ...) work on traced numbers too.

Examples
--------
>>> from pathad import trace, gradient
>>> gradient(trace(lambda x: sigmoid(x) * exp(x), 0.0))
{'x': 0.75}
"""

import numpy as np

from .operators import PrimitiveArithmetic
from .primitives import PRIMITIVES
from .tracing import apply

__all__ = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu"]


def _unary(name, x):
    if isinstance(x, np.ndarray):
        return np.frompyfunc(lambda item: _unary(name, item), 1, 1)(x)
    apply_ = x._apply if isinstance(x, PrimitiveArithmetic) else apply  # traced, dual, or a plain real
    result = apply_(PRIMITIVES[name], x)
    if result is NotImplemented:
        raise TypeError(f"{name} needs a real number, a traced value or a Dual, got {type(x).__name__} {x!r}")
    return result


def exp(x):
    """e ** x.  Edge label: the result, e ** x."""
    return _unary("exp", x)


def log(x):
    """Natural logarithm, for x > 0.  Edge label: 1/x."""
    return _unary("log", x)


def sqrt(x):
    """Square root, for x >= 0 (its derivative needs x > 0).  Edge label: 1/(2v) for result v."""
    return _unary("sqrt", x)


def sin(x):
    """Sine.  Edge label: cos x."""
    return _unary("sin", x)


def cos(x):
    """Cosine.  Edge label: -sin x."""
    return _unary("cos", x)


def tan(x):
    """Tangent.  Edge label: 1 + v² for result v."""
    return _unary("tan", x)


def tanh(x):
    """Hyperbolic tangent.  Edge label: 1 - v² for result v."""
    return _unary("tanh", x)


def sigmoid(x):
    """The logistic function 1/(1 + e^-x).  Edge label: v(1 - v) for result v.

    >>> sigmoid(0.0)
    0.5
    """
    return _unary("sigmoid", x)


def relu(x):
    """max(x, 0).  Edge label: 1 where x > 0, else 0."""
    return _unary("relu", x)
