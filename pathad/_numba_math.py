"""The primitive table's math namespace inside numba, and the op-code dispatch of the compiled replay.

Imported only when the numba backend is first used (numba takes a while to load).

The rules of :data:`pathad.primitives.PRIMITIVES` call ``m.exp(a)``, ``m.sign(a)``,
...  Inside compiled code ``m`` is a value of :data:`namespace_type`, a numba type
with no data (nothing to reference-count when it is passed along) whose
methods are the table's float implementations compiled by numba
(``namespace_functions("compiled")``).  The dispatch from an op code to a rule is
one generated function with one branch per primitive: flat, so numba inlines it
into the replay loop once instead of copying a nested chain per primitive.

Examples
--------
>>> import numba
>>> unary, sin = dispatchers(numba).unary, OP_CODES["sin"]
>>> @numba.njit
... def sine_and_partial(x):
...     return unary(sin, make_namespace(), x, 0.0, True, False)
>>> sine_and_partial(0.5)[:2] == (math.sin(0.5), math.cos(0.5))
True
"""

import math
import types as pytypes
from types import SimpleNamespace

import numba
from numba.core import types
from numba.extending import intrinsic, models, overload_method, register_model

from .compiled import OPS
from .primitives import BINARY, PRIMITIVES, UNARY, namespace_functions

__all__ = ["namespace_type", "make_namespace", "dispatchers", "OP_CODES"]

#: Op code of each node kind in compiled programs (:data:`pathad.compiled.OPS`).
OP_CODES = {name: code for code, name in enumerate(OPS)}


class _NamespaceType(types.Type):
    def __init__(self):
        super().__init__(name="pathad.ScalarMath")


#: The numba type of ``m`` in compiled rules.
namespace_type = _NamespaceType()
register_model(_NamespaceType)(models.OpaqueModel)


@intrinsic
def make_namespace(typingctx):
    """The math namespace value, inside compiled code (it holds no data)."""

    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return namespace_type(), codegen


def _arity(name, function):
    if name in PRIMITIVES:
        return PRIMITIVES[name].arity
    return function.__code__.co_argcount


def _compiled(function):
    """A Python implementation compiled by numba; a math builtin as it is (numba knows those)."""
    if isinstance(function, pytypes.FunctionType):
        return numba.njit(error_model="numpy", inline="always")(function)
    return function


def _pow(a, b):
    if b == 1.0:  # exact either way (the C pow is within an ulp, so it returns a itself), and much cheaper
        return a
    return a**b


def _install_methods():
    functions = namespace_functions("compiled")
    functions["pow"] = _pow  # numba's a**b is C's pow: nan for a negative base with a fractional b
    for name, function in functions.items():
        arity = _arity(name, function)
        overload_method(_NamespaceType, name)(_method_template(_compiled(function), arity))


def _method_template(compiled, arity):
    if arity == 0:

        def template(self):
            return lambda self: compiled()
    elif arity == 1:

        def template(self, a):
            return lambda self, a: compiled(a)
    else:

        def template(self, a, b):
            return lambda self, a, b: compiled(a, b)

    return template


_install_methods()


def dispatchers(numba_module=numba):
    """``unary`` and ``binary``: ``f(code, m, x, y, need_p, need_q) -> (value, ∂/∂x, ∂/∂y)``, one branch per
    primitive, generated; partials that are not needed come back as 0 without being computed.

    They take numbers only (arrays passed down would cost a reference count
    update per call) and are meant to be inlined into the loop that calls them.
    """
    inline = numba_module.njit(error_model="numpy", inline="always")  # rules too: measured faster to compile
    return SimpleNamespace(
        unary=inline(_generate(UNARY, 1, inline)), binary=inline(_generate(BINARY, 2, inline)), codes=OP_CODES
    )


def _generate(primitives, arity, jit):
    """The dispatch function's source, one ``if`` per primitive, compiled from fixed text (no user input)."""
    lines = ["def dispatch(c, m, x, y, need_p, need_q):"]
    scope = {"nan": math.nan}
    args = "x, y" if arity == 2 else "x"
    for p in primitives:
        code = OP_CODES[p.name]
        scope[f"value_{code}"] = jit(p.value)
        for j, rule in enumerate(p.partials):
            scope[f"partial_{code}_{j}"] = jit(rule)
        second = f"float(partial_{code}_1(m, {args}, r)) if need_q else 0.0" if arity == 2 else "0.0"
        lines += [
            f"    if c == {code}:  # {p.name}",
            f"        r = float(value_{code}(m, {args}))",
            f"        return r, float(partial_{code}_0(m, {args}, r)) if need_p else 0.0, {second}",
        ]
    lines.append("    return nan, nan, nan")
    exec("\n".join(lines), scope)
    return scope["dispatch"]
