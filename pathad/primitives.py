"""The one table of primitive operations.

Each :class:`Primitive` keeps together everything pathad knows about an operation:
its name, display symbol, value rule, one *local partial* rule per operand, and
how the rest of the world spells it (its numpy ufuncs, its sympy formula, its
Python operator, other names).  A partial rule is the label the lecture puts on
the edge from the operand to the result (CS701 notes, section 5): for an n-ary
operator the label on the j-th operand's edge is the value of ∂op/∂f_j.  Rules
may use the operation's result, as the lecture's labels for sqrt (1/(2v)) and
sigmoid (v(1-v)) do.

Each primitive also declares its *second* local partials next to the first:
``second = (∂²/∂a²,)`` for a unary operation and ``(∂²/∂a², ∂²/∂a∂b, ∂²/∂b²)``
for a binary one, rules of the same form ``(m, *operands, result)``.  A second
partial that is identically zero is the shared zero rule, so
:func:`is_zero_rule` says which pairs of operands are structurally linear.

Rules are written once, against a *math namespace* ``m`` that supplies exp, log,
arcsin, ...: :data:`FLOAT` evaluates them on Python floats, :data:`ARRAY` on
numpy arrays, :mod:`pathad.symbolic` on sympy expressions, :mod:`pathad.draw` on
label formulas and :mod:`pathad.compiled.kernel_source` inside numba.  Every namespace is built
from this table: a function primitive declares its float implementation
(``scalar``), its numpy ufuncs, its sympy formula and its symbol, and each
namespace takes the piece it needs.  The few functions the rules use that are
not primitives themselves (``sign``, ``step``, ...) are declared once in
:data:`HELPERS`.

Adding an operation is one entry in :data:`PRIMITIVES`; ``tests/test_table.py``
checks that every part of pathad knows every entry.

Conventions at kinks and jumps (one-sided choices, as JAX and PyTorch make them):
relu, abs, fabs and copysign have derivative 0 at 0 in the operand they bend;
maximum/minimum (and fmax/fmin, the same on pathad's finite values) give ½ to
each operand at a tie; sign, floor, ceil, trunc, rint, round, floor_divide and
heaviside (in its first operand) have derivative 0 everywhere, including at
their jumps; mod/remainder and fmod have derivative 1 in the dividend and
-floor(a/b) (fmod: -trunc(a/b)) in the divisor; ``pow(0, y)`` for y > 0 has
derivative 0 in y.  Second derivatives: these piecewise-constant and
piecewise-linear functions (sign, floor, ceil, trunc, rint, round,
floor_divide, heaviside, relu, abs, fabs, maximum/minimum, copysign,
mod/remainder, fmod) have second derivative 0 everywhere, kinks and jumps
included; ``pow(0, y)`` has ∂²/∂y² = 0 for y > 0 and ∂²/∂x∂y = 0 for y > 1,
and ``pow(x, 0)``, ``pow(x, 1)`` have ∂²/∂x² = 0, at x = 0 too.

Examples
--------
>>> PRIMITIVES["mul"].value(FLOAT, 3.0, 5.0)
15.0
>>> [rule(FLOAT, 3.0, 5.0, 15.0) for rule in PRIMITIVES["mul"].partials]
[5.0, 3.0]
>>> [rule(FLOAT, 3.0, 5.0, 15.0) for rule in PRIMITIVES["mul"].second]  # ∂²/∂a², ∂²/∂a∂b, ∂²/∂b²
[0, 1, 0]
>>> PRIMITIVES["arcsin"].ufuncs, PRIMITIVES["arcsin"].names
(('arcsin',), ('asin',))
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DOMAIN_ERRORS",
    "Primitive",
    "Helper",
    "PRIMITIVES",
    "HELPERS",
    "FLOAT",
    "FloatMath",
    "ARRAY",
    "ArrayMath",
    "UNARY",
    "BINARY",
    "BY_NAME",
    "namespace_functions",
    "is_zero_rule",
]

#: What the float rules raise outside their domain; callers turn these into pathad.DomainError.
DOMAIN_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


@dataclass(frozen=True)
class Primitive:
    """One operation: its value rule, the local partial of each operand, and its names elsewhere.

    Attributes
    ----------
    name : str
        The ``op`` attribute of the nodes it creates; also ``pathad.<name>``
        for function primitives and the name of its math-namespace function.
    symbol : str
        How drawings and formulas show it ("+", "·", "sin", ...).
    value : callable
        ``value(m, *operands) -> result``.
    partials : tuple of callables
        ``partials[j](m, *operands, result)`` is ∂result/∂operand_j, the label of
        the edge from operand j.
    second : tuple of callables
        The second local partials, rules of the same form: ``(∂²/∂a²,)`` for a
        unary operation, ``(∂²/∂a², ∂²/∂a∂b, ∂²/∂b²)`` for a binary one.  One
        that is identically zero is the shared zero rule (:func:`is_zero_rule`).
    infix : bool
        Whether the symbol is written between the operands (``a + b``) or before
        them (``sin(a)``).
    labels : tuple of callables or None
        The partials as drawings show them, when the accurate rule is not the
        textbook one (sigmoid's label is v(1-v); its rule keeps full precision
        where v rounds to 1).  None: the partial rules themselves.
    ufuncs : tuple of str
        The numpy ufuncs that compute this primitive (``np.<name>``), first the
        one the array namespace uses.
    scalar : callable or None
        The implementation on Python floats, for the float and numba
        namespaces (function primitives only; operators use Python's).
    array : callable or None
        The implementation on numpy arrays when the first ufunc is not it.
    sympy : callable or None
        ``sympy(sp, *operands) -> expression``, the formula for sympy.
    compiled : callable or None
        The float implementation numba compiles, where ``scalar`` uses
        something numba lacks (None: ``scalar``).
    names : tuple of str
        Other spellings: aliases in ``pathad`` and in the formula language
        (``asin``, ``ln``, ``degrees``).
    dunder : str or None
        The Python operator protocol it implements (``"add"``: ``__add__`` and
        ``__radd__``; ``"floor"``: ``math.floor``'s ``__floor__``).
    doc : str
        One line for ``pathad.<name>``'s docstring.
    """

    name: str
    symbol: str
    value: Callable
    partials: tuple
    second: tuple = ()
    infix: bool = False
    labels: tuple | None = None
    ufuncs: tuple = ()
    scalar: Callable | None = None
    array: Callable | None = None
    sympy: Callable | None = None
    compiled: Callable | None = None
    names: tuple = ()
    dunder: str | None = None
    doc: str = ""

    @property
    def arity(self) -> int:
        """The number of operands."""
        return len(self.partials)

    @property
    def label_rules(self) -> tuple:
        """The partial rules drawings show (``labels``, else ``partials``)."""
        return self.labels or self.partials

    @property
    def is_function(self) -> bool:
        """Whether it is called as a function (``pathad.sin(x)``), not written as an operator."""
        return self.scalar is not None

    def __repr__(self):
        return f"Primitive({self.name!r}, arity={self.arity})"


@dataclass(frozen=True)
class Helper:
    """A function the rules use that is not itself an operation (``sign`` in abs's partial).

    Attributes
    ----------
    name : str
    scalar, array : callable
        On floats (also compiled by numba) and on numpy arrays.
    sympy : callable
        ``sympy(sp, *operands)``.
    label : str
        A format for drawings, ``{0}``, ``{1}`` standing for the operands.
    """

    name: str
    scalar: Callable
    array: Callable
    sympy: Callable
    label: str


def _calling(name, arity):
    """The value rule ``name(m, a[, b]) -> m.name(a[, b])`` as a plain function (numba compiles it)."""
    operands = ", ".join("ab"[:arity])
    namespace = {}
    exec(f"def {name}(m, {operands}):\n    return m.{name}({operands})\n", namespace)  # fixed text, no user input
    rule = namespace[name]
    rule.__qualname__ = rule.__name__ = f"{name}_value"
    rule.formula = f"m.{name}({operands})"  # its source text, for generated code (pathad.compiled.kernel_source)
    return rule


def _function(name, symbol, partials, second, scalar, sympy, *, ufuncs=None, doc="", **options):
    """A function primitive whose value is ``m.<name>(...)``."""
    ufuncs = (name,) if ufuncs is None else ufuncs
    return Primitive(name, symbol, _calling(name, len(partials)), tuple(partials), tuple(second), ufuncs=ufuncs,
                     scalar=scalar, sympy=sympy, doc=doc, **options)  # fmt: skip


# --- float implementations that math does not have as they are needed --------------


def _pow(a, b):
    result = a**b
    if isinstance(result, complex):
        raise ValueError("a negative base needs an integer exponent")
    return float(result)


def _sigmoid(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _logaddexp(a, b):
    big = max(a, b)
    return big + math.log1p(math.exp(-abs(a - b)))


def _softplus(a):
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))  # not _logaddexp(a, 0.0): numba compiles each alone


def _logaddexp2(a, b):
    big = max(a, b)
    return big + math.log1p(2.0 ** -abs(a - b)) / math.log(2.0)


def _relu(a):
    return a if a > 0 else 0.0


def _maximum(a, b):
    return a if a >= b else b


def _minimum(a, b):
    return a if a <= b else b


def _copysign(a, b):
    return math.copysign(a, b)


def _heaviside(a, b):
    return 0.0 if a < 0 else (b if a == 0 else 1.0)


def _floor(a):
    return float(math.floor(a))


def _ceil(a):
    return float(math.ceil(a))


def _trunc(a):
    return float(math.trunc(a))


def _rint(a):
    return float(round(a))  # Python rounds half to even, as numpy's rint


def _round(a, digits):
    return float(round(a, int(digits)))


def _mod(a, b):
    return a % b


def _fmod(a, b):
    return math.fmod(a, b)


def _fmod_compiled(a, b):
    return np.fmod(a, b)


def _floor_divide(a, b):
    return a // b


def _cbrt(a):
    return math.cbrt(a) if hasattr(math, "cbrt") else math.copysign(abs(a) ** (1 / 3), a)


def _exp2(a):
    return 2.0**a


def _square(a):
    return a * a


def _reciprocal(a):
    return 1.0 / a


def _deg2rad(a):
    return a * (math.pi / 180.0)


def _rad2deg(a):
    return a * (180.0 / math.pi)


def _sign(a):
    return (1.0 if a > 0 else 0.0) - (1.0 if a < 0 else 0.0)  # numpy's bools do not subtract; numba has no float(bool)


def _step(a):
    return 1.0 if a > 0 else 0.0


def _above(a, b):
    return 1.0 if a > b else (0.5 if a == b else 0.0)


def _equal(a, b):
    return 1.0 if a == b else 0.0


def _xlogy(x, y):
    return 0.0 if x == 0 else x * math.log(y)


def _sech2(a):
    t = math.exp(-2.0 * abs(a))
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


# --- the same on arrays -------------------------------------------------------------


def _array_sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _array_relu(a):
    return np.where(a > 0, a, 0.0)


def _array_step(a):
    return np.where(a > 0, 1.0, 0.0)


def _array_above(a, b):
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))


def _array_equal(a, b):
    return np.where(a == b, 1.0, 0.0)


def _array_xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def _array_sech2(a):
    t = np.exp(-2.0 * np.abs(a))
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _array_softplus(a):
    return np.logaddexp(0.0, a)


def _array_round(a, digits):
    return np.frompyfunc(_round, 2, 1)(a, digits).astype(np.float64)  # Python's rounding, not numpy's


def _array_maximum(a, b):
    return np.where(a >= b, a, b)  # ties keep a, as the float rule (-0.0 vs 0.0 matters to copysign)


def _array_minimum(a, b):
    return np.where(a <= b, a, b)


def _array_erf(a):
    return np.frompyfunc(math.erf, 1, 1)(a).astype(np.float64)  # numpy has no erf; math's, point by point


# --- partial rules, one lambda each where they are one formula -----------------------
# Binary rules take (m, a, b) for the value and (m, a, b, r) for a partial, where
# r is the result; unary rules take (m, a) and (m, a, r).  Literals are ints, so
# a symbolic namespace gets exact coefficients (the tracer converts to float).


def _pow_base(m, a, b, r):
    # b·a^(b-1); written as b·r/a it would fail at a = 0, where a^(b-1) may be fine.
    return b * m.pow(a, b - 1) if b != 0 else 0 * a


def _pow_exponent(m, a, b, r):
    return m.xlogy(r, a)  # r·log(a), and 0 where r = 0: pow(0, y) for y > 0 (as autograd and JAX)


def _pow_base_base(m, a, b, r):
    # b·(b-1)·a^(b-2), and 0 for b = 0 or 1 (a⁰ and a¹ are linear), also at a = 0, where a^(b-2) is infinite.
    return b * (b - 1) * m.pow(a, b - 2) if b != 0 and b != 1 else 0 * a


def _pow_base_exponent(m, a, b, r):
    # ∂(b·a^(b-1))/∂b = a^(b-1)·(1 + b·log a), and 0 at a = 0 for b > 1 (the exponent's partial is 0 there).
    return m.pow(a, b - 1) + b * m.xlogy(m.pow(a, b - 1), a)


def _pow_exponent_exponent(m, a, b, r):
    return m.xlogy(m.xlogy(r, a), a)  # r·log²(a), and 0 where r = 0, as the first partial


def _add(m, a, b):
    return a + b


def _sub(m, a, b):
    return a - b


def _mul(m, a, b):
    return a * b


def _div(m, a, b):
    return a / b


def _neg(m, a):
    return -a


def _zero1(m, a, r):
    return 0


def _zero2(m, a, b, r):
    return 0


def is_zero_rule(rule):
    """Whether a partial rule is the table's shared zero (``_zero1`` or ``_zero2``): identically 0 by declaration.

    A pair of operands whose second partial is the zero rule is structurally
    linear: add's three, mul's squares, every second partial of the
    piecewise-constant and piecewise-linear primitives.

    Examples
    --------
    >>> [is_zero_rule(rule) for rule in PRIMITIVES["mul"].second]
    [True, False, True]
    >>> is_zero_rule(PRIMITIVES["exp"].second[0]), is_zero_rule(PRIMITIVES["relu"].second[0])
    (False, True)
    """
    return rule is _zero1 or rule is _zero2


def _one2(m, a, b, r):
    return 1


def _sigmoid_label(m, a, r):
    return r * (1 - r)  # the lecture's label v(1-v)


def _tanh_label(m, a, r):
    return 1 - r * r


_BINARY = (
    Primitive("add", "+", _add, (_one2, _one2), (_zero2, _zero2, _zero2), infix=True, ufuncs=("add",), dunder="add"),
    Primitive("sub", "−", _sub, (_one2, lambda m, a, b, r: -1), (_zero2, _zero2, _zero2), infix=True,
              ufuncs=("subtract",), dunder="sub"),
    Primitive("mul", "·", _mul, (lambda m, a, b, r: b, lambda m, a, b, r: a), (_zero2, _one2, _zero2), infix=True,
              ufuncs=("multiply",), dunder="mul"),
    Primitive("div", "/", _div, (lambda m, a, b, r: 1 / b, lambda m, a, b, r: -r / b),
              (_zero2, lambda m, a, b, r: -1 / (b * b), lambda m, a, b, r: 2 * r / (b * b)), infix=True,
              ufuncs=("divide", "true_divide"), dunder="truediv"),
    _function("pow", "^", (_pow_base, _pow_exponent), (_pow_base_base, _pow_base_exponent, _pow_exponent_exponent),
              _pow, lambda sp, a, b: a**b, infix=True, ufuncs=("power", "float_power"), dunder="pow",
              doc="a ** b (a negative base needs an integer b)."),
    _function("mod", "mod", (_one2, lambda m, a, b, r: -m.floor(a / b)), (_zero2, _zero2, _zero2), _mod,
              lambda sp, a, b: sp.Mod(a, b), ufuncs=("mod", "remainder"), dunder="mod",
              doc="a % b, with the sign of b (Python's and numpy's)."),
    _function("floor_divide", "//", (_zero2, _zero2), (_zero2, _zero2, _zero2), _floor_divide,
              lambda sp, a, b: sp.floor(a / b), dunder="floordiv", doc="a // b = floor(a / b); derivative 0."),
    _function("fmod", "fmod", (_one2, lambda m, a, b, r: -m.trunc(a / b)), (_zero2, _zero2, _zero2), _fmod,
              lambda sp, a, b: a - b * sp.sign(a / b) * sp.floor(sp.Abs(a / b)), compiled=_fmod_compiled,
              doc="C's fmod: the sign of a."),
    _function("arctan2", "arctan2", (lambda m, a, b, r: b / (a * a + b * b), lambda m, a, b, r: -a / (a * a + b * b)),
              (lambda m, a, b, r: -2 * a * b / (a * a + b * b) / (a * a + b * b),
               lambda m, a, b, r: (a - b) * (a + b) / (a * a + b * b) / (a * a + b * b),
               lambda m, a, b, r: 2 * a * b / (a * a + b * b) / (a * a + b * b)),
              math.atan2, lambda sp, a, b: sp.atan2(a, b), names=("atan2",), doc="The angle of the point (b, a)."),
    _function("hypot", "hypot", (lambda m, a, b, r: a / r, lambda m, a, b, r: b / r),
              (lambda m, a, b, r: (b / r) * (b / r) / r, lambda m, a, b, r: -(a / r) * (b / r) / r,
               lambda m, a, b, r: (a / r) * (a / r) / r),
              math.hypot, lambda sp, a, b: sp.sqrt(a**2 + b**2), doc="√(a² + b²) without overflow."),
    _function("logaddexp", "logaddexp", (lambda m, a, b, r: m.exp(a - r), lambda m, a, b, r: m.exp(b - r)),
              (lambda m, a, b, r: m.sigmoid(a - b) * m.sigmoid(b - a),
               lambda m, a, b, r: -m.sigmoid(a - b) * m.sigmoid(b - a),
               lambda m, a, b, r: m.sigmoid(a - b) * m.sigmoid(b - a)),
              _logaddexp, lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)), doc="log(eᵃ + eᵇ) without overflow."),
    _function("logaddexp2", "logaddexp2", (lambda m, a, b, r: m.exp2(a - r), lambda m, a, b, r: m.exp2(b - r)),
              (lambda m, a, b, r: m.log(2) * m.sigmoid((a - b) * m.log(2)) * m.sigmoid((b - a) * m.log(2)),
               lambda m, a, b, r: -m.log(2) * m.sigmoid((a - b) * m.log(2)) * m.sigmoid((b - a) * m.log(2)),
               lambda m, a, b, r: m.log(2) * m.sigmoid((a - b) * m.log(2)) * m.sigmoid((b - a) * m.log(2))),
              _logaddexp2, lambda sp, a, b: sp.log(2**a + 2**b, 2), doc="log₂(2ᵃ + 2ᵇ) without overflow."),
    _function("maximum", "max", (lambda m, a, b, r: m.above(a, b), lambda m, a, b, r: m.above(b, a)),
              (_zero2, _zero2, _zero2), _maximum, lambda sp, a, b: sp.Max(a, b), ufuncs=("maximum", "fmax"),
              names=("fmax", "max"), doc="The larger of a and b (½ to each at a tie)."),
    _function("minimum", "min", (lambda m, a, b, r: m.above(b, a), lambda m, a, b, r: m.above(a, b)),
              (_zero2, _zero2, _zero2), _minimum, lambda sp, a, b: sp.Min(a, b), ufuncs=("minimum", "fmin"),
              names=("fmin", "min"), doc="The smaller of a and b (½ to each at a tie)."),
    _function("copysign", "copysign", (lambda m, a, b, r: m.sign(a) * m.sign(r), _zero2), (_zero2, _zero2, _zero2),
              _copysign, lambda sp, a, b: sp.Abs(a) * sp.sign(b), doc="|a| with the sign of b."),
    _function("heaviside", "H", (_zero2, lambda m, a, b, r: m.equal(a, 0)), (_zero2, _zero2, _zero2), _heaviside,
              lambda sp, a, b: sp.Heaviside(a, b), doc="0 for a < 0, b at 0, 1 for a > 0."),
    _function("round", "round", (_zero2, _zero2), (_zero2, _zero2, _zero2), _round,
              lambda sp, a, b: sp.Function("round")(a, b), ufuncs=(), array=_array_round,
              doc="round(a, b digits), Python's rounding; derivative 0."),
)


_UNARY = (
    Primitive("neg", "−", _neg, (lambda m, a, r: -1,), (_zero1,), ufuncs=("negative",), dunder="neg"),
    _function("abs", "abs", (lambda m, a, r: m.sign(a),), (_zero1,), abs, lambda sp, a: sp.Abs(a),
              ufuncs=("absolute", "fabs"), names=("fabs",), dunder="abs", doc="|a| (derivative 0 at 0)."),
    _function("exp", "exp", (lambda m, a, r: r,), (lambda m, a, r: r,), math.exp, lambda sp, a: sp.exp(a),
              doc="e ** a."),
    _function("log", "log", (lambda m, a, r: 1 / a,), (lambda m, a, r: -1 / (a * a),), math.log,
              lambda sp, a: sp.log(a), names=("ln",), doc="The natural logarithm, for a > 0."),
    _function("sqrt", "√", (lambda m, a, r: 1 / (2 * r),), (lambda m, a, r: -1 / (4 * a * r),), math.sqrt,
              lambda sp, a: sp.sqrt(a), doc="The square root, for a >= 0 (its derivative needs a > 0); label 1/(2v)."),
    _function("sin", "sin", (lambda m, a, r: m.cos(a),), (lambda m, a, r: -r,), math.sin, lambda sp, a: sp.sin(a),
              doc="The sine."),
    _function("cos", "cos", (lambda m, a, r: -m.sin(a),), (lambda m, a, r: -r,), math.cos, lambda sp, a: sp.cos(a),
              doc="The cosine."),
    _function("tan", "tan", (lambda m, a, r: 1 + r * r,), (lambda m, a, r: 2 * r * (1 + r * r),), math.tan,
              lambda sp, a: sp.tan(a), doc="The tangent."),
    _function("tanh", "tanh", (lambda m, a, r: m.sech2(a),), (lambda m, a, r: -2 * r * m.sech2(a),), math.tanh,
              lambda sp, a: sp.tanh(a), labels=(_tanh_label,), doc="The hyperbolic tangent; label 1 - v²."),
    _function("sigmoid", "σ", (lambda m, a, r: m.sigmoid(a) * m.sigmoid(-a),),
              (lambda m, a, r: -r * m.sigmoid(-a) * m.tanh(a / 2),), _sigmoid, lambda sp, a: 1 / (1 + sp.exp(-a)),
              ufuncs=(), array=_array_sigmoid, labels=(_sigmoid_label,),
              doc="The logistic function 1/(1 + e^-a); label v(1 - v)."),
    _function("relu", "relu", (lambda m, a, r: m.step(a),), (_zero1,), _relu, lambda sp, a: sp.Max(a, 0), ufuncs=(),
              array=_array_relu, doc="max(a, 0) (derivative 0 at 0)."),
    _function("softplus", "softplus", (lambda m, a, r: m.sigmoid(a),), (lambda m, a, r: m.sigmoid(a) * m.sigmoid(-a),),
              _softplus, lambda sp, a: sp.log(1 + sp.exp(a)), ufuncs=(), array=_array_softplus,
              doc="log(1 + eᵃ) without overflow."),
    _function("erf", "erf", (lambda m, a, r: 2 / m.sqrt(m.pi()) * m.exp(-a * a),),
              (lambda m, a, r: -4 / m.sqrt(m.pi()) * a * m.exp(-a * a),), math.erf, lambda sp, a: sp.erf(a),
              ufuncs=(), array=_array_erf, doc="The error function."),
    _function("arcsin", "arcsin", (lambda m, a, r: 1 / m.sqrt(1 - a * a),),
              (lambda m, a, r: a / ((1 - a) * (1 + a) * m.sqrt((1 - a) * (1 + a))),), math.asin,
              lambda sp, a: sp.asin(a), names=("asin",), doc="The inverse sine, for -1 <= a <= 1."),
    _function("arccos", "arccos", (lambda m, a, r: -1 / m.sqrt(1 - a * a),),
              (lambda m, a, r: -a / ((1 - a) * (1 + a) * m.sqrt((1 - a) * (1 + a))),), math.acos,
              lambda sp, a: sp.acos(a), names=("acos",), doc="The inverse cosine, for -1 <= a <= 1."),
    _function("arctan", "arctan", (lambda m, a, r: 1 / (1 + a * a),),
              (lambda m, a, r: -2 * a / (1 + a * a) / (1 + a * a),), math.atan, lambda sp, a: sp.atan(a),
              names=("atan",), doc="The inverse tangent."),
    _function("sinh", "sinh", (lambda m, a, r: m.cosh(a),), (lambda m, a, r: r,), math.sinh,
              lambda sp, a: sp.sinh(a), doc="The hyperbolic sine."),
    _function("cosh", "cosh", (lambda m, a, r: m.sinh(a),), (lambda m, a, r: r,), math.cosh,
              lambda sp, a: sp.cosh(a), doc="The hyperbolic cosine."),
    _function("arcsinh", "arsinh", (lambda m, a, r: 1 / m.hypot(a, 1),),
              (lambda m, a, r: -a / m.hypot(a, 1) / (1 + a * a),), math.asinh, lambda sp, a: sp.asinh(a),
              names=("asinh",), doc="The inverse hyperbolic sine."),
    _function("arccosh", "arcosh", (lambda m, a, r: 1 / (m.sqrt(a - 1) * m.sqrt(a + 1)),),
              (lambda m, a, r: -a / ((a - 1) * (a + 1) * m.sqrt(a - 1) * m.sqrt(a + 1)),), math.acosh,
              lambda sp, a: sp.acosh(a), names=("acosh",), doc="The inverse hyperbolic cosine, for a >= 1."),
    _function("arctanh", "artanh", (lambda m, a, r: 1 / ((1 - a) * (1 + a)),),
              (lambda m, a, r: 2 * a / ((1 - a) * (1 + a)) ** 2,), math.atanh, lambda sp, a: sp.atanh(a),
              names=("atanh",), doc="The inverse hyperbolic tangent, for -1 < a < 1."),
    _function("log2", "log₂", (lambda m, a, r: 1 / (a * m.log(2)),), (lambda m, a, r: -1 / (a * a * m.log(2)),),
              math.log2, lambda sp, a: sp.log(a, 2), doc="The base-2 logarithm."),
    _function("log10", "log₁₀", (lambda m, a, r: 1 / (a * m.log(10)),), (lambda m, a, r: -1 / (a * a * m.log(10)),),
              math.log10, lambda sp, a: sp.log(a, 10), doc="The base-10 logarithm."),
    _function("log1p", "log1p", (lambda m, a, r: 1 / (1 + a),), (lambda m, a, r: -1 / ((1 + a) * (1 + a)),),
              math.log1p, lambda sp, a: sp.log(1 + a), doc="log(1 + a), accurate for small a."),
    _function("exp2", "exp2", (lambda m, a, r: r * m.log(2),), (lambda m, a, r: r * m.log(2) ** 2,), _exp2,
              lambda sp, a: 2**a, doc="2 ** a."),
    _function("expm1", "expm1", (lambda m, a, r: m.exp(a),), (lambda m, a, r: m.exp(a),), math.expm1,
              lambda sp, a: sp.exp(a) - 1, doc="e ** a - 1, accurate for small a."),
    _function("square", "sq", (lambda m, a, r: 2 * a,), (lambda m, a, r: 2,), _square, lambda sp, a: a**2,
              doc="a · a."),
    _function("reciprocal", "recip", (lambda m, a, r: -r * r,), (lambda m, a, r: 2 * r * r * r,), _reciprocal,
              lambda sp, a: 1 / a, doc="1 / a."),
    _function("cbrt", "∛", (lambda m, a, r: 1 / (3 * r * r),), (lambda m, a, r: -2 / (9 * a * r * r),), _cbrt,
              lambda sp, a: sp.real_root(a, 3), doc="The real cube root (its derivative needs a != 0)."),
    _function("deg2rad", "rad", (lambda m, a, r: m.pi() / 180,), (_zero1,), _deg2rad, lambda sp, a: a * sp.pi / 180,
              ufuncs=("deg2rad", "radians"), names=("radians",), doc="Degrees to radians."),
    _function("rad2deg", "deg", (lambda m, a, r: 180 / m.pi(),), (_zero1,), _rad2deg, lambda sp, a: a * 180 / sp.pi,
              ufuncs=("rad2deg", "degrees"), names=("degrees",), doc="Radians to degrees."),
    _function("sign", "sign", (_zero1,), (_zero1,), _sign, lambda sp, a: sp.sign(a), doc="-1, 0 or 1; derivative 0."),
    _function("floor", "floor", (_zero1,), (_zero1,), _floor, lambda sp, a: sp.floor(a), dunder="floor",
              doc="The largest integer <= a; derivative 0."),
    _function("ceil", "ceil", (_zero1,), (_zero1,), _ceil, lambda sp, a: sp.ceiling(a), dunder="ceil",
              doc="The smallest integer >= a; derivative 0."),
    _function("trunc", "trunc", (_zero1,), (_zero1,), _trunc, lambda sp, a: sp.sign(a) * sp.floor(sp.Abs(a)),
              dunder="trunc", doc="a rounded toward 0; derivative 0."),
    _function("rint", "rint", (_zero1,), (_zero1,), _rint, lambda sp, a: sp.Function("rint")(a),
              doc="a rounded to the nearest integer, half to even; derivative 0."),
)

BINARY = _BINARY
UNARY = _UNARY

#: Every primitive by name: the single source of truth for values and partials.
PRIMITIVES = {p.name: p for p in BINARY + UNARY}

#: Every name a function primitive answers to (its name and its aliases) -> the primitive.
BY_NAME = {alias: p for p in PRIMITIVES.values() if p.is_function for alias in (p.name, *p.names)}


def _pi():
    return math.pi


#: The functions rules use that are not primitives (``m.sign``, ``m.step``, ...).
HELPERS = {
    h.name: h
    for h in (
        Helper("step", _step, _array_step, lambda sp, a: sp.Heaviside(a, 0), "[{0}>0]"),
        Helper("above", _above, _array_above, lambda sp, a, b: sp.Heaviside(a - b, sp.Rational(1, 2)), "[{0}>{1}]"),
        Helper("equal", _equal, _array_equal, lambda sp, a, b: sp.KroneckerDelta(a, b), "[{0}={1}]"),
        Helper("xlogy", _xlogy, _array_xlogy, lambda sp, x, y: x * sp.log(y), "{0}·log({1})"),
        Helper("sech2", _sech2, _array_sech2, lambda sp, a: sp.sech(a) ** 2, "sech²({0})"),
        Helper("pi", _pi, _pi, lambda sp: sp.pi, "π"),
    )
}


def namespace_functions(kind):
    """Every math-namespace function of one kind, by name: ``"scalar"``, ``"compiled"`` (for numba), ``"array"`` or
    ``"sympy"``.

    The function primitives give their own implementation (for arrays: the
    ``array`` one, else their first ufunc, else the float one point by point);
    the :data:`HELPERS` theirs.

    Examples
    --------
    >>> namespace_functions("scalar")["arcsin"](1.0) == math.pi / 2
    True
    >>> namespace_functions("array")["sinh"] is np.sinh
    True
    """
    functions = {}
    for p in PRIMITIVES.values():
        if not p.is_function:
            continue
        if kind == "scalar":
            functions[p.name] = p.scalar
        elif kind == "compiled":
            functions[p.name] = p.compiled or p.scalar
        elif kind == "array":
            functions[p.name] = p.array or (getattr(np, p.ufuncs[0]) if p.ufuncs else np.vectorize(p.scalar))
        elif kind == "sympy":
            functions[p.name] = p.sympy
        else:
            raise ValueError(f"kind must be 'scalar', 'compiled', 'array' or 'sympy', got {kind!r}")
    for h in HELPERS.values():
        functions[h.name] = getattr(h, "scalar" if kind == "compiled" else kind)
    return functions


def _namespace_class(name, kind, doc):
    attributes = {fn_name: staticmethod(fn) for fn_name, fn in namespace_functions(kind).items()}
    return type(name, (), {"__doc__": doc, "__slots__": (), **attributes})


FloatMath = _namespace_class(
    "FloatMath",
    "scalar",
    """The math namespace for Python floats, built from the primitive table.

    Errors are the ones Python's ``math`` raises (ValueError, ZeroDivisionError,
    OverflowError); the tracer turns them into :class:`pathad.DomainError`.

    Examples
    --------
    >>> FLOAT.sigmoid(0.0), FLOAT.logaddexp(1000.0, 1000.0) == 1000.0 + math.log(2)
    (0.5, True)
    """,
)

ArrayMath = _namespace_class(
    "ArrayMath",
    "array",
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
    """,
)

FLOAT = FloatMath()
ARRAY = ArrayMath()
