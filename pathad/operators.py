"""Python's operators and numpy's ufuncs for number types built on the primitive table.

:class:`PrimitiveArithmetic` maps every arithmetic operator (``+ - * / **``,
unary ``-``, ``abs``), the element methods numpy calls on object arrays
(``np.exp(array)`` calls ``element.exp()``) and the numpy ufuncs to one entry of
:data:`pathad.primitives.PRIMITIVES` each.  A number type supplies only
``_apply(primitive, *operands)``: the traced scalar records the operation, the
dual number carries a derivative along.

Examples
--------
>>> class Loud(PrimitiveArithmetic):
...     @staticmethod
...     def _apply(primitive, *operands):
...         return primitive.name
>>> Loud() * 2, np.sin(Loud()), abs(Loud())
('mul', 'sin', 'abs')
"""

import numpy as np

from .primitives import PRIMITIVES

__all__ = ["PrimitiveArithmetic", "UFUNCS"]

_ADD, _SUB, _MUL, _DIV, _POW = (PRIMITIVES[n] for n in ("add", "sub", "mul", "div", "pow"))
_NEG, _ABS = PRIMITIVES["neg"], PRIMITIVES["abs"]

#: numpy ufunc -> the primitive it computes.
UFUNCS = {
    np.add: _ADD,
    np.subtract: _SUB,
    np.multiply: _MUL,
    np.true_divide: _DIV,
    np.power: _POW,
    np.negative: _NEG,
    np.absolute: _ABS,
    **{getattr(np, name): PRIMITIVES[name] for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh")},
}


class PrimitiveArithmetic:
    """Operators, element methods and ufuncs, each one primitive; subclasses define ``_apply``.

    ``_apply(primitive, *operands)`` returns the result, or ``NotImplemented``
    for operands it does not take (so Python tries the other side).
    """

    __slots__ = ()

    def __add__(self, other):
        return self._apply(_ADD, self, other)

    def __radd__(self, other):
        return self._apply(_ADD, other, self)

    def __sub__(self, other):
        return self._apply(_SUB, self, other)

    def __rsub__(self, other):
        return self._apply(_SUB, other, self)

    def __mul__(self, other):
        return self._apply(_MUL, self, other)

    def __rmul__(self, other):
        return self._apply(_MUL, other, self)

    def __truediv__(self, other):
        return self._apply(_DIV, self, other)

    def __rtruediv__(self, other):
        return self._apply(_DIV, other, self)

    def __pow__(self, other):
        return self._apply(_POW, self, other)

    def __rpow__(self, other):
        return self._apply(_POW, other, self)

    def __neg__(self):
        return self._apply(_NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._apply(_ABS, self)

    # the methods numpy calls on the elements of object arrays
    def exp(self):
        return self._apply(PRIMITIVES["exp"], self)

    def log(self):
        return self._apply(PRIMITIVES["log"], self)

    def sqrt(self):
        return self._apply(PRIMITIVES["sqrt"], self)

    def sin(self):
        return self._apply(PRIMITIVES["sin"], self)

    def cos(self):
        return self._apply(PRIMITIVES["cos"], self)

    def tan(self):
        return self._apply(PRIMITIVES["tan"], self)

    def tanh(self):
        return self._apply(PRIMITIVES["tanh"], self)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """np.sin(t), np.float64(2) * t, np.add(array, t): ufuncs as primitives, elementwise over arrays."""
        if method != "__call__" or kwargs:
            return NotImplemented
        if any(isinstance(i, np.ndarray) for i in inputs):  # elementwise over object arrays
            return ufunc(*(np.asarray(i, dtype=object) if isinstance(i, PrimitiveArithmetic) else i for i in inputs))
        primitive = UFUNCS.get(ufunc)
        if primitive is None:
            raise TypeError(
                f"numpy.{ufunc.__name__} is not a pathad primitive, so it has no rule for "
                f"{type(self).__name__} values; the known ufuncs are {', '.join(sorted(u.__name__ for u in UFUNCS))}"
            )
        return self._apply(primitive, *inputs)
