"""The numpy replay's steps on single nodes: rules on rows of the batch and on Python floats, and their tables.

:class:`~pathad.compiled.program.Program` evaluates a level of many nodes by
groups (one rule call each); runs of narrow levels go node by node, as a
:class:`_RowSegment` (one numpy call per node on its row of the batch) or a
:class:`_ScalarSegment` (Python floats, a point at a time), whichever its
plan finds cheaper.  All ways give numpy's own bits: on Python floats only
the rules whose arithmetic is numpy's (:data:`_EXACT_RULES`), or math's
functions where they gave numpy's bits on a sample (:func:`_scalar_rule_of`).
"""

import math
import operator
from functools import cache

import numpy as np

from ..primitives import ARRAY, DOMAIN_ERRORS, PRIMITIVES
from .freeze import ARITY, CODE, OPS
from .schedule import distinct

__all__ = []  # pieces of pathad.compiled.program's numpy plan (it imports them): nothing public


def _operand_slots(program, nodes):
    """For op ``nodes`` (positions ascending): per operand (2, m) whether it is a node outside ``nodes``, a
    constant or one of ``nodes`` (then its index there), with the outside nodes and the distinct constants."""
    codes = program.tape.codes[nodes]
    operand, const = program.node_of[:, nodes], program.const_of[:, nodes]
    used = np.arange(2)[:, None] < ARITY[codes]
    place = np.minimum(np.searchsorted(nodes, operand), nodes.size - 1)
    inside = used & (operand >= 0) & (nodes[place] == operand)
    outside = used & (operand >= 0) & ~inside
    constant = used & (operand < 0)
    bits, outside_nodes = distinct(const[constant].view(np.int64)), distinct(operand[outside])
    slots = {
        "outside": np.searchsorted(outside_nodes, operand),
        "constant": np.searchsorted(bits, const.view(np.int64)),
        "inside": place,
    }
    masks = {"outside": outside, "constant": constant, "inside": inside}
    return codes, masks, slots, outside_nodes, bits.view(np.float64)


class _RowSegment:
    """Op nodes evaluated one by one in position order, each by one numpy call on rows of the batch.

    Operands are rows of the work array: a node's own, or a constant's row
    (from ``base`` on, the constants being ``consts``).
    """

    def __init__(self, program, nodes, base):
        codes, masks, slots, _, self.consts = _operand_slots(program, nodes)
        rows = np.zeros((2, nodes.size), dtype=np.int64)
        operand = program.node_of[:, nodes]
        traced = masks["outside"] | masks["inside"]
        rows[traced] = operand[traced]
        rows[masks["constant"]] = base + slots["constant"][masks["constant"]]
        self.rules = [_ROW_RULES[c] for c in codes.tolist()]
        self.nodes, self.a, self.b = nodes.tolist(), rows[0].tolist(), rows[1].tolist()

    def run(self, work):
        for rule, v, a, b in zip(self.rules, self.nodes, self.a, self.b):
            rule(work[a], work[b], work[v])


class _ScalarSegment:
    """Op nodes evaluated one by one in position order on Python floats, a batch point at a time.

    Each point's numbers are one list: the values of the nodes read from
    outside the segment, the constants, then each node's value appended in
    turn.  The rules are numpy's on single numbers (:func:`_scalar_rule_of`);
    where Python's float arithmetic or math raises (x/0, sqrt(-1)) instead of giving
    inf or nan, that point is evaluated again with the failing op on numpy,
    so that the values (and the DomainError naming the node) are those of the
    other ways.
    """

    def __init__(self, program, nodes):
        codes, masks, slots, self.outside, consts = _operand_slots(program, nodes)
        self.nodes, self.codes = nodes, codes
        self.consts = consts.tolist() + [0.0, 1.0]  # and two for the rules below
        self.first = self.outside.size + len(self.consts)
        offsets = {"outside": 0, "constant": self.outside.size, "inside": self.first}
        place = np.zeros((2, nodes.size), dtype=np.int64)  # unused second operands read slot 0
        for kind, mask in masks.items():
            place[mask] = offsets[kind] + slots[kind][mask]
        # unary ops as builtins of two operands (no Python frame): relu(a) = max(0.0, a) (a nan or -0.0 gives
        # 0.0, as numpy's rule), square(a) = a · a, reciprocal(a) = 1.0 / a
        for name, first in zip(_ON_SECOND, (self.first - 2, None, self.first - 1)):
            these = codes == CODE[name]
            place[1, these] = place[0, these]
            if first is not None:
                place[0, these] = first
        self.rules = [_scalar_rule_of(c) for c in codes.tolist()]
        self.a, self.b = place[0].tolist(), place[1].tolist()

    def run(self, work):
        outside = work[self.outside]
        found = []
        for k in range(work.shape[1]):
            numbers = outside[:, k].tolist() + self.consts
            try:
                _scalar_pass(self.rules, self.a, self.b, numbers)
            except DOMAIN_ERRORS:
                numbers = outside[:, k].tolist() + self.consts
                fallbacks = [_FALLBACK_RULES[c] for c in self.codes.tolist()]
                _careful_pass(self.rules, fallbacks, self.a, self.b, numbers)
            found.append(numbers[self.first :])
        work[self.nodes] = np.array(found).T


def _scalar_pass(rules, a, b, numbers):
    append = numbers.append
    for rule, i, j in zip(rules, a, b):
        append(rule(numbers[i], numbers[j]))


def _careful_pass(rules, fallbacks, a, b, numbers):
    append = numbers.append
    for rule, fallback, i, j in zip(rules, fallbacks, a, b):
        x, y = numbers[i], numbers[j]
        try:
            append(rule(x, y))
        except DOMAIN_ERRORS:
            append(fallback(x, y))


def _numpy_rule(rule, arity, second=False):
    """``rule`` (a value rule) on two numbers as on one-element arrays, numpy's way (a unary rule on the first
    number, or with ``second`` on the second)."""
    if arity == 1 and second:
        return lambda a, b: float(_call(rule, (np.array([b]),))[0])
    if arity == 1:
        return lambda a, b: float(_call(rule, (np.array([a]),))[0])
    return lambda a, b: float(_call(rule, (np.array([a]), np.array([b])))[0])


def _ufunc_rule(ufunc, arity):
    if arity == 1:
        return lambda a, b: float(ufunc(a))
    return lambda a, b: float(ufunc(a, b))


def _row_rule(rule, arity, ufunc):
    """``rule`` (a value rule) on rows, into the row ``out``: the ufunc itself where the rule is one."""
    if ufunc is not None:
        return (lambda a, b, out: ufunc(a, out=out)) if arity == 1 else (lambda a, b, out: ufunc(a, b, out=out))

    def rows(a, b, out):
        out[...] = _call(rule, (a, b)[:arity])

    return rows


#: Value rules whose float arithmetic is exactly numpy's (IEEE operations, comparisons), on two Python floats
#: (a unary rule ignores the second); Python raises where numpy gives inf or nan (x/0, sqrt(-1)).
_EXACT_RULES = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "neg": lambda a, b: -a,
    "abs": lambda a, b: abs(a),
    "sqrt": lambda a, b: math.sqrt(a),
    "square": operator.mul,  # its operand twice (see _ScalarSegment)
    "reciprocal": operator.truediv,  # 1.0 / its operand
    "relu": max,  # max(0.0, its operand)
    "maximum": lambda a, b: a if a >= b else b,
    "minimum": lambda a, b: a if a <= b else b,
}
#: The unary rules above that _ScalarSegment gives their operand as the second number.
_ON_SECOND = ("relu", "square", "reciprocal")
_OPERATOR_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "neg": np.negative}


def _rule_tables():
    """Per op code: the rule on Python floats, its fallback on numpy, the rule on rows, and a float op's cost."""
    scalar, fallback, rows, weight = [None], [None], [None], [1.0]
    for name in OPS[1:]:
        primitive = PRIMITIVES[name]
        arity, rule = primitive.arity, primitive.value
        ufunc = _OPERATOR_UFUNCS.get(name)
        if ufunc is None and primitive.is_function:
            candidate = getattr(ARRAY, name)
            ufunc = candidate if isinstance(candidate, np.ufunc) and candidate.nin == arity else None
        fallback.append(_numpy_rule(rule, arity, second=name in _ON_SECOND))
        rows.append(_row_rule(rule, arity, ufunc))
        if name in _EXACT_RULES:
            scalar.append(_EXACT_RULES[name])
            weight.append(1.0)
        elif ufunc is not None:
            scalar.append(_ufunc_rule(ufunc, arity))
            weight.append(3.0)
        else:
            scalar.append(fallback[-1])
            weight.append(5.0)
    return scalar, fallback, rows, np.array(weight)


_SCALAR_RULES, _FALLBACK_RULES, _ROW_RULES, _SCALAR_WEIGHT = _rule_tables()


@cache
def _scalar_rule_of(code):
    """The rule :class:`_ScalarSegment` runs for an op code: :data:`_SCALAR_RULES`' (numpy on a single number,
    where Python's own arithmetic is not exactly numpy's), or the primitive's float implementation itself
    (math's, a tenth of the cost) if it gives numpy's very bits on a sample of 1120 arguments: then numpy
    calls the same C library (or computes the same IEEE operations), as it does on most machines for most
    functions.  Where it does not (numpy's own vectorized tanh, say) numpy stays."""
    name = OPS[code]
    primitive = PRIMITIVES[name]
    if name in _EXACT_RULES or primitive.scalar is None or not _same_bits(primitive):
        return _SCALAR_RULES[code]
    scalar = primitive.scalar
    return (lambda a, b: scalar(a)) if primitive.arity == 1 else scalar


@cache
def _scalar_weight(code):
    """What an op costs on a Python float, relative to + (see _ForwardPlan): its own arithmetic 1, math's
    function 1.5, numpy on one number 3, numpy on a one-element array 5."""
    rule = _scalar_rule_of(code)
    return 1.5 if rule is not _SCALAR_RULES[code] else float(_SCALAR_WEIGHT[code])


def _same_bits(primitive):
    """Whether ``primitive.scalar`` gives the bits of its array rule on a fixed sample (where it does not raise)."""
    rng = np.random.default_rng(701)
    size = 256  # per kind of argument: a function that rounds otherwise differs on a good part of them
    special = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, math.inf, -math.inf, math.nan, 5e-324, 1.7e308]
    huge = rng.choice([-1.0, 1.0], size) * 10.0 ** rng.uniform(-300, 300, size)
    sample = np.concatenate([np.repeat(special, 8), rng.uniform(-1, 1, size), rng.uniform(-30, 30, size),
                             rng.uniform(0, 4, size), huge])  # fmt: skip
    operands = (sample, rng.permutation(sample))[: primitive.arity]
    try:
        with np.errstate(all="ignore"):
            expected = np.asarray(_call(primitive.value, operands), dtype=np.float64)
    except DOMAIN_ERRORS:  # (round's array rule on an infinite number of digits)
        return False
    compared = 0
    for i, args in enumerate(zip(*(o.tolist() for o in operands))):
        try:
            got = float(primitive.scalar(*args))
        except DOMAIN_ERRORS:
            continue
        want = float(expected[i])
        if got != want and not (got != got and want != want) or math.copysign(1.0, got) != math.copysign(1.0, want):
            return False
        compared += 1
    return compared >= 2 * size


def _call(rule, operands, extra=()):
    """A rule on arrays (the caller's assignment broadcasts it); point by point if it branches on values."""
    try:
        return rule(ARRAY, *operands, *extra)
    except (ValueError, TypeError):  # `if b != 0` on an array (pow's rule): evaluate point by point
        arrays = np.broadcast_arrays(*[np.asarray(o, dtype=np.float64) for o in (*operands, *extra)])
        pointwise = np.frompyfunc(lambda *xs: _scalar_rule(rule, xs), len(arrays), 1)
        return pointwise(*arrays).astype(np.float64)


def _scalar_rule(rule, operands):
    try:
        return float(rule(ARRAY, *(np.float64(x) for x in operands)))
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan
