"""Python's operators and numpy's ufuncs for number types built on the primitive table.

:class:`PrimitiveArithmetic` maps every arithmetic operator (``+ - * / ** % //``,
unary ``-``, ``abs``, ``divmod``, ``round``, ``math.floor``/``ceil``/``trunc``),
the element methods numpy calls on object arrays (``np.arcsinh(array)`` calls
``element.arcsinh()``) and the numpy ufuncs to entries of
:data:`pathad.primitives.PRIMITIVES`; all of it is generated from the table's
``dunder``, ``name`` and ``ufuncs`` fields.  A number type supplies only
``_apply(primitive, *operands)``: the traced scalar records the operation, the
dual number carries a derivative along.

Examples
--------
>>> class Loud(PrimitiveArithmetic):
...     @staticmethod
...     def _apply(primitive, *operands):
...         return primitive.name
>>> Loud() * 2, np.sin(Loud()), abs(Loud()), Loud() % 3, np.arctan2(Loud(), 1.0)
('mul', 'sin', 'abs', 'mod', 'arctan2')
"""

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .primitives import PRIMITIVES

__all__ = ["PrimitiveArithmetic", "UFUNCS", "COMPOSITE_UFUNCS", "COMPARISONS", "METHODS", "unsupported_ufunc"]

#: numpy ufunc -> the primitive it computes.
UFUNCS = {getattr(np, name): p for p in PRIMITIVES.values() for name in p.ufuncs if hasattr(np, name)}


def _positive(apply, a):
    return a


def _clip(apply, a, low, high):
    return apply(PRIMITIVES["minimum"], apply(PRIMITIVES["maximum"], a, low), high)


def _divmod(apply, a, b):
    return apply(PRIMITIVES["floor_divide"], a, b), apply(PRIMITIVES["mod"], a, b)


def _modf(apply, a):
    whole = apply(PRIMITIVES["trunc"], a)
    return apply(PRIMITIVES["sub"], a, whole), whole


#: numpy's comparison ufuncs -> the Python comparison each element makes (a traced one records a guard).
COMPARISONS = {
    np.less: operator.lt,
    np.less_equal: operator.le,
    np.greater: operator.gt,
    np.greater_equal: operator.ge,
    np.equal: operator.eq,
    np.not_equal: operator.ne,
}

#: numpy ufuncs that are compositions of primitives: ufunc -> ``f(apply, *operands)``.
COMPOSITE_UFUNCS = {
    np.positive: _positive,
    np.conjugate: _positive,  # real numbers are their own conjugate
    np.clip: _clip,
    np.divmod: _divmod,
    np.modf: _modf,
}


def _as_object_arrays(inputs):
    """The inputs with each number of ours as a 0-d object array, so numpy runs element by element."""
    return tuple(np.asarray(i, dtype=object) if isinstance(i, PrimitiveArithmetic) else i for i in inputs)


def unsupported_ufunc(ufunc, kind):
    """The TypeError for a numpy ufunc without a pathad rule (one line, naming what is known)."""
    known = sorted({u.__name__ for u in UFUNCS} | {u.__name__ for u in COMPOSITE_UFUNCS})
    return TypeError(
        f"numpy.{ufunc.__name__} is not differentiable through pathad (it has no rule for {kind} values); "
        f"the ufuncs pathad knows are {', '.join(known)}"
    )


class PrimitiveArithmetic:
    """Operators, element methods and ufuncs, each one primitive; subclasses define ``_apply`` and ``_lost``.

    ``_apply(primitive, *operands)`` returns the result, or ``NotImplemented``
    for operands it does not take (so Python tries the other side).
    ``_lost(asked)`` is the error for whatever asks for a plain number:
    float(), int(), operator.index, complex(), math.* and float ndarrays would
    drop the derivative without a word, so each of them is refused.
    """

    __slots__ = ()
    _apply: Callable[..., Any]  # set by each subclass (a staticmethod), as the class docstring says

    def __float__(self):
        raise self._lost("float()")

    def __int__(self):
        raise self._lost("int()")

    def __index__(self):
        raise self._lost("an integer index (operator.index)")

    def __complex__(self):
        raise self._lost("complex()")

    def __pos__(self):
        return self

    def __round__(self, ndigits=None):
        """round(x) is rint(x) (half to even, as Python rounds); round(x, n) the ``round`` primitive."""
        if ndigits is None:
            return self._apply(PRIMITIVES["rint"], self)
        return self._apply(PRIMITIVES["round"], self, ndigits)

    def __divmod__(self, other):
        return _divmod(self._apply, self, other)

    def __rdivmod__(self, other):
        return _divmod(self._apply, other, self)

    # the methods numpy calls on the elements of object arrays
    def conjugate(self) -> "PrimitiveArithmetic":
        return self

    @property
    def real(self) -> "PrimitiveArithmetic":
        return self

    @property
    def imag(self) -> float:
        return 0.0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """np.sin(t), np.float64(2) * t, np.add(array, t): ufuncs as primitives, elementwise over arrays."""
        primitive, composite = UFUNCS.get(ufunc), COMPOSITE_UFUNCS.get(ufunc)
        if ufunc in COMPARISONS and method == "__call__" and not kwargs:  # x < np.zeros(4): elementwise, as bools
            inputs = _as_object_arrays(inputs)
            return np.frompyfunc(COMPARISONS[ufunc], 2, 1)(*inputs).astype(bool)
        if primitive is None and composite is None:
            raise unsupported_ufunc(ufunc, type(self).__name__)
        if method != "__call__" or kwargs.get("out") is not None:
            # reductions and the like: let numpy run them on an object array, element by element
            inputs = _as_object_arrays(inputs)
            return getattr(ufunc, method)(*inputs, **kwargs)
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__} on {type(self).__name__} values takes no keywords, got "
                            f"{', '.join(kwargs)}")  # fmt: skip
        apply = self._apply
        if composite is not None:
            rule = lambda *xs: composite(apply, *xs)  # noqa: E731
        else:
            rule = lambda *xs: apply(primitive, *xs)  # noqa: E731
        if any(isinstance(i, np.ndarray) for i in inputs):  # elementwise over object arrays
            inputs = _as_object_arrays(inputs)
            return np.frompyfunc(rule, len(inputs), ufunc.nout)(*inputs)
        return rule(*inputs)


def _binary_dunders(primitive):
    def forward(self, other):
        return self._apply(primitive, self, other)

    def reflected(self, other):
        return self._apply(primitive, other, self)

    name = primitive.dunder
    forward.__name__, reflected.__name__ = f"__{name}__", f"__r{name}__"
    return {forward.__name__: (forward, "forward"), reflected.__name__: (reflected, "reflected")}


def _unary_dunder(primitive):
    def method(self):
        return self._apply(primitive, self)

    method.__name__ = f"__{primitive.dunder}__"
    return {method.__name__: (method, "unary")}


def _element_method(primitive):
    if primitive.arity == 1:

        def method(self):
            return self._apply(primitive, self)

        return method, "unary"

    def method(self, other):
        return self._apply(primitive, self, other)

    return method, "forward"


#: Every generated method of :class:`PrimitiveArithmetic`: name -> (primitive, kind), kind "forward"
#: (``self op other``), "reflected" (``other op self``) or "unary".  A number type may replace them
#: with faster ones computing the same (the traced number does).
METHODS: dict[str, tuple[Any, str]] = {}


def _install():
    """Attach the generated operators and element methods (one per table entry and ufunc name)."""
    for primitive in PRIMITIVES.values():
        methods = {}
        if primitive.dunder:
            methods.update(_binary_dunders(primitive) if primitive.arity == 2 else _unary_dunder(primitive))
        for name in sorted({primitive.name, *primitive.ufuncs}):
            if primitive.is_function and not hasattr(PrimitiveArithmetic, name) and name not in methods:
                methods[name] = _element_method(primitive)
        for name, (method, kind) in methods.items():
            setattr(PrimitiveArithmetic, name, method)
            METHODS[name] = (primitive, kind)


_install()
