"""Math functions for traced code: ``pathad.exp(x)``, ``pathad.arcsinh(x)``, ``pathad.sigmoid(W @ x)``, ...

One function per function primitive of :data:`pathad.primitives.PRIMITIVES`
(and one per alias: ``pathad.asin`` is ``pathad.arcsin``), generated from the
table.  Each works on a :class:`~pathad.tracing.Traced` number (recording one
node), on a :class:`~pathad.dual.Dual` number (carrying its derivative), on a
plain real number (returning a float) and elementwise on numpy arrays of these.
The matching numpy ufuncs (``np.exp``, ``np.arcsinh``, ...) work on traced
numbers too; ``erf``, ``softplus``, ``sigmoid`` and ``relu`` have no ufunc.

Examples
--------
>>> from pathad import trace, gradient
>>> gradient(trace(lambda x: sigmoid(x) * exp(x), 0.0))
{'x': 0.75}
>>> round(float(erf(0.5)), 12), hypot(3.0, 4.0)
(0.520499877813, 5.0)
"""

import builtins
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .operators import PrimitiveArithmetic
from .primitives import BY_NAME, Primitive
from .tracing import apply

__all__ = [
    "call",
    "zeros",
    "zeros_like",
    *sorted(name for name in BY_NAME if not hasattr(builtins, name)),  # pathad.abs, .max, ... stay attributes
]


def call(primitive: Primitive, *operands: Any) -> Any:
    """Apply a primitive to traced numbers, dual numbers, plain reals or numpy arrays of them (elementwise).

    Examples
    --------
    >>> from pathad.primitives import PRIMITIVES
    >>> call(PRIMITIVES["maximum"], np.array([1.0, 5.0]), 3.0).tolist()
    [3.0, 5.0]
    """
    if any(isinstance(x, np.ndarray) for x in operands):
        return np.frompyfunc(lambda *xs: call(primitive, *xs), len(operands), 1)(*operands)
    owner = next((x for x in operands if isinstance(x, PrimitiveArithmetic)), None)
    result = (apply if owner is None else owner._apply)(primitive, *operands)
    if result is NotImplemented:
        given = ", ".join(f"{type(x).__name__} {x!r}" for x in operands)
        wanted = "real numbers, traced values or Duals"
        if len(operands) == 1:
            wanted = "a real number, a traced value or a Dual"
        raise TypeError(f"{primitive.name} needs {wanted}, got {given}")
    return result


def _public(name, primitive):
    operands = ["x", "y"][: primitive.arity]

    def function(*args):
        if len(args) != primitive.arity:
            raise TypeError(f"{name}() takes {primitive.arity} argument{'s' * (primitive.arity > 1)} "
                            f"({', '.join(operands)}), got {len(args)}")  # fmt: skip
        return call(primitive, *args)

    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__signature__ = inspect.Signature(
        [inspect.Parameter(o, inspect.Parameter.POSITIONAL_OR_KEYWORD) for o in operands]
    )  # so that pathad.trace(pathad.sqrt, 4.0) names its input x
    alias = f" (the same as ``{primitive.name}``)" if name != primitive.name else ""
    function.__doc__ = f"{name}({', '.join(operands)}): {primitive.doc}{alias}"
    return function


globals().update({name: _public(name, primitive) for name, primitive in BY_NAME.items()})

if TYPE_CHECKING:  # the functions made from the table just above (exp, sin, ...), which a type checker cannot see

    def __getattr__(name: str) -> Callable[..., Any]: ...


def zeros(shape: int | tuple[int, ...]) -> np.ndarray:
    """An object array of ``0.0`` that traced values can be stored in (``h = zeros(3); h[0] = x``).

    A float array (``np.zeros(3)``) can hold only plain numbers, so storing a
    traced value in it would drop its derivative (pathad raises
    :class:`pathad.LostDerivativeError` instead).

    Examples
    --------
    >>> h = zeros(2)
    >>> h.dtype, h.tolist()
    (dtype('O'), [0.0, 0.0])
    """
    array = np.empty(shape, dtype=object)
    array.fill(0.0)
    return array


def zeros_like(a: npt.ArrayLike) -> np.ndarray:
    """:func:`zeros` with the shape of ``a``.

    Examples
    --------
    >>> zeros_like(np.ones((2, 3))).shape
    (2, 3)
    """
    return zeros(np.shape(a))
