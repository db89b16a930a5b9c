"""Semirings: the algebra a path problem is solved in.

A path problem over a semiring (S, ⊕, ⊗, 0̄, 1̄) asks, for nodes s and t, for the
⊕-sum over every path s→t of the ⊗-product of its edge weights (Mohri, "Semiring
frameworks and algorithms for shortest-distance problems", 2002; the CS701 notes
on automatic differentiation, section 3).  ``solve`` needs:

* ⊕ (``plus``, *combine*) associative and commutative, with identity ``zero``;
* ⊗ (``times``, *extend*) associative, with identity ``one``;
* ⊗ distributing over ⊕ on both sides, and ``zero`` annihilating ⊗.

Because ``zero`` annihilates, an edge whose weight ``== zero`` adds the term ``zero``
(its term is ``zero`` whatever the path value it meets, even one that is not a
true element, such as an overflowed float: inf · 0 would be nan), so elements
must compare with ``==`` to a bool.  A semiring whose elements must be finite
numbers says so with ``finite=True`` (:data:`REAL` does): :func:`pathad.solve`
then raises :class:`pathad.DomainError` instead of returning ±inf or nan.

On a DAG nothing else is required (⊕ need not be idempotent: 1 + 1 = 2 is what
makes derivatives add up over paths).  :func:`check_laws` tests these laws on
sample elements.

The same computation graph answers a different question in each semiring
(⊕ / ⊗ / edge weight: the value of the paths s→t):

- REAL       + / × / partial:      ∂t/∂s, the derivative.
- BOOLEAN    or / and / True:      does t depend on s at all.
- COUNTING   + / × / 1:            how many paths: the terms of ∂t/∂s fully expanded.
- MAX_TIMES  max / × / |partial|:  the single most influential path, and its size.
- MIN_PLUS   min / + / weight or 1: the cheapest path (default: the fewest operations).
- MAX_PLUS   max / + / weight or 1: the dearest path (default: the depth of t below s).
- SYMBOLIC   + / × / sympy label:  ∂t/∂s as a formula.

**Which edge attribute is the weight?**  Each semiring carries a default
``weight``, an edge attribute name or a function ``weight(u, v, data)``, that
:func:`pathad.solve` uses when it is given none.  REAL reads ``"partial"``;
COUNTING gives every edge 1 and BOOLEAN every edge True, so they work on any
graph; MAX_TIMES scores an edge by |partial| and remembers it (:func:`influence`).
A ``weight=`` given to ``solve`` always wins.

Examples
--------
The lecture's h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5; node 6 is h:

>>> from pathad.solver import solve
>>> from pathad.tracing import trace
>>> def h(x, y):
...     return (x + 4 * y) * ((x + y) * y)
>>> tr = trace(h, x=3.0, y=5.0)
>>> solve(tr, "y")[6], solve(tr, "y", semiring=COUNTING)[6], solve(tr, "x", semiring=BOOLEAN).get(2, False)
(459.0, 3, False)
>>> solve(tr, "y", semiring=MAX_TIMES)[6]
Scored(score=184.0, edges=EdgePath(((1, 5, 8.0), (5, 6, 23.0))))
>>> solve(tr, "h", semiring=MIN_PLUS, direction="backward")[1], solve(tr, "y", semiring=MAX_PLUS)[6]
(2.0, 3.0)

Of ∂h/∂y's three terms, 8·23 = 184 (through (x + y)·y's second operand) is the
largest; every path from y to h takes two or three operations; h does not
depend on x through node 2 (that is 4y).

A semiring of your own is a few lines.  Here the path value is the set of
paths, spelled as words with one letter per edge; ⊗ concatenates, so it is not
commutative, and both sweeps still spell every path in order:

>>> import networkx as nx
>>> def spell(u, v, data):
...     return frozenset({data["letter"]})
>>> def concatenate(a, b):
...     return frozenset(x + y for x in a for y in b)
>>> WORDS = Semiring("words", frozenset(), frozenset({""}), frozenset.union, concatenate,
...                  commutative=False, weight=spell)
>>> G = nx.MultiDiGraph([(0, 1, {"letter": "a"}), (1, 2, {"letter": "b"}), (0, 2, {"letter": "c"})])
>>> sorted(solve(G, 0, semiring=WORDS)[2]), sorted(solve(G, 2, semiring=WORDS, direction="backward")[0])
(['ab', 'c'], ['ab', 'c'])
"""

import itertools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import MissingWeightError, SemiringLawError, UnknownSemiringError
from .types import SemiringLike, Weight

__all__ = [
    "BITSETS",
    "DUAL",
    "DualValue",
    "Semiring",
    "REAL",
    "BOOLEAN",
    "COUNTING",
    "MAX_TIMES",
    "MIN_PLUS",
    "MAX_PLUS",
    "SYMBOLIC",
    "edge_weight",
    "SEMIRINGS",
    "Scored",
    "EdgePath",
    "influence",
    "as_semiring",
    "check_laws",
]


@dataclass(frozen=True)
class Semiring:
    """A semiring for path problems: ``zero``, ``one``, ``plus`` (⊕, combine), ``times`` (⊗, extend).

    Parameters
    ----------
    name : str
        Shown in messages and reprs.
    zero, one : object
        The identities of ``plus`` and ``times`` (true identities, not placeholders).
    plus, times : callable
        Binary functions.  ``times(a, b)`` is called with its operands in path
        order, so non-commutative semirings get the product as written.
    commutative : bool
        Whether ``times`` commutes; sweeps may then skip reordering operands.
    description : str
        One line on what the path value means on a computation graph.
    weight : str or callable
        The edge weight :func:`pathad.solve` uses when it is given none: an edge
        attribute name, or ``weight(u, v, data)`` returning an element.
    finite : bool
        Whether every element is a finite number, so that a path value that is
        ±inf or nan is an overflow, not an answer.  :func:`pathad.solve` then
        checks the values it returns and raises :class:`pathad.DomainError`
        naming the node where the path value first became non-finite.  False
        for semirings that use inf themselves (MIN_PLUS's zero is +inf).

    Examples
    --------
    >>> TROPICAL = Semiring("min-plus", float("inf"), 0.0, min, operator.add)
    >>> TROPICAL.times(TROPICAL.one, 2.0)
    2.0
    """

    name: str
    zero: Any
    one: Any
    plus: Callable
    times: Callable
    commutative: bool = True
    description: str = ""
    weight: Any = "partial"
    finite: bool = False

    def __repr__(self):
        return f"Semiring({self.name!r})"


# --- default edge weights: one short named function each ---------------------


def _unit_count(u, v, data):
    return 1


def _unit_truth(u, v, data):
    return True


def _weight_or_one(u, v, data):
    return data.get("weight", 1)


def _either(a, b):
    return a or b


def _both(a, b):
    return a and b


REAL = Semiring(
    "real",
    0.0,
    1.0,
    operator.add,
    operator.mul,
    description="sum over paths of the product of partials: the derivative ∂t/∂s",
    finite=True,
)
"""(+, ×) over floats, the edge weight ``"partial"``: the path value is ∂t/∂s.
Its elements are finite floats: a derivative that overflows (every value and
every partial finite, their product not) is a :class:`pathad.DomainError` from
:func:`pathad.solve`, never a silent ±inf.
"""

BOOLEAN = Semiring(
    "boolean",
    False,
    True,
    _either,
    _both,
    description="is there a path s→t: does t depend on s (structurally), a Jacobian's sparsity",
    weight=_unit_truth,
)
"""(or, and), every edge True.  The path value is True iff t depends on s through
the graph: a forward sweep from the inputs finds the *varied* nodes, a backward
sweep from the outputs the *useful* ones, and both together the *active* ones
(activity analysis); one sweep per output gives a row of the Jacobian's
sparsity pattern.  Dependence is structural: an edge whose partial happens to be
0 at the traced point still counts.
"""

COUNTING = Semiring(
    "counting",
    0,
    1,
    operator.add,
    operator.mul,
    description="the number of paths s→t: the number of terms of ∂t/∂s fully expanded",
    weight=_unit_count,
)
"""(+, ×) over Python ints, every edge 1.  The path value is the number of paths
s→t, which is the number of terms in ∂t/∂s written out as a sum of products of
edge labels (before like terms are collected): the *expression swell* of
symbolic differentiation.  It can grow exponentially while the graph grows
linearly (the logistic map doubles it each step).
"""


class EdgePath:
    """A sequence of edges (u, v, label) whose concatenation ``a + b`` costs O(1).

    A long path is kept as a tree of its two halves (a rope) rather than a copied
    tuple, so MAX_TIMES's ⊗ stays O(1) on deep graphs.  It iterates, compares
    (lexicographically, as the tuple of its edges; equal to that tuple) and
    hashes like ``tuple(path)``, walking the tree with an explicit stack.

    Examples
    --------
    >>> p = EdgePath([("x", "u", 2.0)]) + EdgePath([("u", "t", 3.0)])
    >>> len(p), tuple(p) == (("x", "u", 2.0), ("u", "t", 3.0)), p < EdgePath([("x", "v", 1.0)])
    (2, True, True)
    """

    __slots__ = ("_edge", "_left", "_right", "_length")

    def __init__(self, edges=()):
        edges = tuple(edges)
        self._edge = edges[0] if len(edges) == 1 else None
        self._left = self._right = None
        self._length = len(edges)
        if len(edges) > 1:
            half = len(edges) // 2
            self._left, self._right = EdgePath(edges[:half]), EdgePath(edges[half:])

    @classmethod
    def _joined(cls, left, right):
        path = cls.__new__(cls)
        path._edge, path._left, path._right = None, left, right
        path._length = left._length + right._length
        return path

    def __add__(self, other):
        if not isinstance(other, EdgePath):
            return NotImplemented
        if not other._length:
            return self
        return EdgePath._joined(self, other) if self._length else other

    def __len__(self):
        return self._length

    def __iter__(self):
        stack = [self]
        while stack:
            path = stack.pop()
            if path._left is not None:
                stack.append(path._right)
                stack.append(path._left)
            elif path._length:
                yield path._edge

    def __eq__(self, other):
        return _order(self, other) == 0 if isinstance(other, (EdgePath, tuple)) else NotImplemented

    def __lt__(self, other):
        return _order(self, other) < 0

    def __le__(self, other):
        return _order(self, other) <= 0

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self):
        return f"EdgePath({tuple(self)!r})"


def _order(a, b):
    """-1, 0 or 1 as path a sorts before, with or after b (compared as tuples of edges).

    Both are read from the left in step; a part the two share as one object at
    the same place is skipped whole, so paths that branch off a long common
    beginning (forward sweeps) or end (backward sweeps) compare quickly.
    """
    mine, theirs = [a], [b if isinstance(b, EdgePath) else EdgePath(b)]  # parts still to read, next on top
    while mine and theirs:
        x, y = mine[-1], theirs[-1]
        if x is y:
            mine.pop()
            theirs.pop()
        elif not x._length:
            mine.pop()
        elif not y._length:
            theirs.pop()
        elif x._left is not None and x._length >= y._length:
            mine[-1:] = [x._right, x._left]
        elif y._left is not None:
            theirs[-1:] = [y._right, y._left]
        elif x._edge != y._edge:
            return -1 if x._edge < y._edge else 1
        else:
            mine.pop()
            theirs.pop()
    left, right = sum(p._length for p in mine), sum(p._length for p in theirs)
    return (left > right) - (left < right)


class Scored(NamedTuple):
    """A MAX_TIMES element: a path's ``score`` and its ``edges`` (an :class:`EdgePath`).

    ``edges`` is None for the zero element (no path at all).
    """

    score: float
    edges: Any


def _better(a, b):
    """The higher score; on a tie, the path whose edges sort first."""
    if a.edges is None:
        return b
    if b.edges is None:
        return a
    if a.score != b.score:
        return a if a.score > b.score else b
    return a if a.edges <= b.edges else b


def _chain(a, b):
    """Scores multiply, edge paths concatenate (in path order)."""
    if a.edges is None or b.edges is None:
        return _NO_PATH
    return Scored(a.score * b.score, a.edges + b.edges)


_NO_PATH = Scored(0.0, None)


def influence(weight="partial"):
    """The MAX_TIMES edge weight built from another weight: ``Scored(|w|, EdgePath(((u, v, w),)))``.

    An edge whose weight is 0 contributes nothing to any derivative, so it is
    mapped to MAX_TIMES's zero (no path): the best path, when there is one, has
    a nonzero product.

    Parameters
    ----------
    weight : str or callable
        The edge attribute holding the signed weight, or ``weight(u, v, data)``.

    Examples
    --------
    >>> influence()("a", "b", {"partial": -2.0})
    Scored(score=2.0, edges=EdgePath((('a', 'b', -2.0),)))
    """

    read = edge_weight(weight)

    def scored(u, v, data):
        w = read(u, v, data)
        return Scored(abs(w), EdgePath(((u, v, w),))) if w != 0 else _NO_PATH

    return scored


def edge_weight(weight: Weight, forward: bool = True) -> Callable[[Any, Any, Any], Any]:
    """Normalise ``weight`` to a function ``f(u, v, data)`` of an edge, as the sweeps read it.

    A string names the edge attribute; a missing attribute raises
    :class:`pathad.MissingWeightError` naming the edge.  With ``forward=False``
    the function is called as the backward sweep walks, from head to tail, and
    still reports (and passes a callable) the edge as it is in the graph.

    Examples
    --------
    >>> edge_weight("partial")("u", "v", {"partial": 2.5})
    2.5
    >>> edge_weight("partial")("u", "v", {})
    Traceback (most recent call last):
    ...
    pathad.errors.MissingWeightError: edge 'u' -> 'v' has no 'partial' attribute (its attributes: [])
    """
    if callable(weight):
        if forward:
            return weight

        def oriented(u, v, data):  # the sweep walks v <- u; the user sees the edge as it is
            return weight(v, u, data)

        return oriented

    def attribute(u, v, data):
        try:
            return data[weight]
        except KeyError:
            tail, head = (u, v) if forward else (v, u)
            raise MissingWeightError(
                f"edge {tail!r} -> {head!r} has no {weight!r} attribute (its attributes: {sorted(data)})"
            ) from None

    return attribute


MAX_TIMES = Semiring(
    "max-times",
    _NO_PATH,
    Scored(1.0, EdgePath()),
    _better,
    _chain,
    commutative=False,
    description="the single path s→t whose product of |partials| is largest: the most influential path",
    weight=influence("partial"),
)
"""(max, ×) over |partial|, remembering the path: elements are
``Scored(score, edges)``, ⊕ keeps the higher score and ⊗ multiplies scores and
concatenates the edge paths (in O(1): :class:`EdgePath`).  The value at t is the
path whose term in ∂t/∂s is largest in magnitude, with edges (u, v, partial).
Ties (equal scores) go to the path whose edge tuple sorts first, which for a
trace is the path that leaves through earlier-created nodes; the rule is the
same in both directions, so forward and backward sweeps return the same path
(up to rounding when two scores differ only in the last bits).  Edges with
partial 0 are not paths here (see :func:`influence`).
"""

MIN_PLUS = Semiring(
    "min-plus",
    float("inf"),
    0.0,
    min,
    operator.add,
    description="the least total weight of a path s→t (default weight 1: the fewest edges)",
    weight=_weight_or_one,
)
"""(min, +), the tropical semiring: shortest paths.  The default weight reads an
edge's ``"weight"`` attribute and takes 1 where it has none (as networkx does),
so on a trace the value is the fewest operations from s to t; pass ``weight=``
to :func:`pathad.solve` for another cost.
"""

MAX_PLUS = Semiring(
    "max-plus",
    float("-inf"),
    0.0,
    max,
    operator.add,
    description="the greatest total weight of a path s→t (default weight 1: the depth of t below s)",
    weight=_weight_or_one,
)
"""(max, +): longest paths, which a DAG allows.  With the default weight (1 per
edge unless an edge has a ``"weight"``) the value is the length of the longest
chain of operations from s to t, the critical path a parallel machine cannot
shorten.
"""

SYMBOLIC = Semiring(
    "symbolic",
    0,
    1,
    operator.add,
    operator.mul,
    description="sum over paths of the product of symbolic labels: ∂t/∂s as a formula",
    weight="symbolic",
)
"""(+, ×) on sympy expressions: the path value is ∂t/∂s as a formula in the
inputs.  The weight is the edge attribute ``"symbolic"``, which
:func:`pathad.symbolic.symbolic_graph` puts on a copy of a trace's graph;
:func:`pathad.symbolic.symbolic_derivative` does both steps.  ``zero`` and
``one`` are the Python ints 0 and 1, which sympy treats as its own, so this
module does not need sympy (the extra ``pathad[symbolic]`` installs it).
"""

#: The named semirings, by name.
def _all_bits(u, v, data):
    return -1


BITSETS = Semiring(
    "bitsets",
    0,
    -1,
    operator.or_,
    operator.and_,
    description="which of several starts reach t, as the bits of an int: a Jacobian's sparsity in one sweep",
    weight=_all_bits,
)
"""(or, and) bit by bit over Python ints: BOOLEAN for many starts at once.
Every edge weighs -1 (all bits set).  Seed start j with the value 1 << j
(``solve(tr, {x: 1, y: 2, z: 4}, semiring=BITSETS)``) and the value at t has
bit j set iff t depends on start j: one sweep gives a whole row (backward) or
column (forward) set of a sparsity pattern.

>>> import networkx as nx
>>> from pathad import solve
>>> G = nx.MultiDiGraph([("x", "t", {}), ("y", "u", {}), ("u", "t", {}), ("z", "u", {})])
>>> found = solve(G, {"x": 1, "y": 2, "z": 4}, semiring=BITSETS)
>>> bin(found["t"]), bin(found["u"])
('0b111', '0b110')
"""

class DualValue(NamedTuple):
    """An element of :data:`DUAL`: a number ``value`` and its derivative ``dot`` along a direction, (a, ȧ)."""

    value: float
    dot: float


def _dual_plus(p, q):
    return DualValue(p[0] + q[0], p[1] + q[1])


def _dual_times(p, q):  # the product rule: (a, ȧ)(b, ḃ) = (ab, aḃ + ȧb)
    return DualValue(p[0] * q[0], p[0] * q[1] + p[1] * q[0])


def _partial_at_rest(u, v, data):
    try:
        return DualValue(data["partial"], 0.0)
    except KeyError:
        raise MissingWeightError(f"edge {u!r} -> {v!r} has no 'partial' attribute") from None


DUAL = Semiring(
    "dual",
    DualValue(0.0, 0.0),
    DualValue(1.0, 0.0),
    _dual_plus,
    _dual_times,
    description="a path value and its derivative along a direction: backward, a Hessian-vector product",
    weight=_partial_at_rest,
    finite=True,
)
"""Pairs (a, ȧ) with (a, ȧ) ⊕ (b, ḃ) = (a + b, ȧ + ḃ) and (a, ȧ) ⊗ (b, ḃ) =
(ab, aḃ + ȧb): dual numbers, a value carried with its derivative along a
direction v.  Label each edge with its partial and the partial's derivative
along v (from the second partials and the tangents of the operands) and one
backward sweep from f gives, at every input x, (∂f/∂x, ∂(∇f·v)/∂x): the
gradient and the Hessian-vector product together (:func:`pathad.hvp`, which
passes the rates as ``weight=``).  The default weight is each edge's partial
with rate 0: a first-order sweep carried in pairs.

>>> _dual_times(DualValue(2.0, 1.0), DualValue(3.0, 5.0))
DualValue(value=6.0, dot=13.0)
"""

SEMIRINGS = {s.name: s for s in (REAL, BOOLEAN, COUNTING, MAX_TIMES, MIN_PLUS, MAX_PLUS, SYMBOLIC, BITSETS, DUAL)}


def as_semiring(semiring: SemiringLike) -> "Semiring":
    """A :class:`Semiring` given itself or its name ("counting", "max_times", "MIN-PLUS", ...).

    Raises
    ------
    UnknownSemiringError
        For a name pathad does not know (the message lists the known ones).

    Examples
    --------
    >>> as_semiring("Max_Times") is MAX_TIMES
    True
    """
    if isinstance(semiring, Semiring):
        return semiring
    key = semiring.lower().replace("_", "-") if isinstance(semiring, str) else semiring
    if key in SEMIRINGS:
        return SEMIRINGS[key]
    raise UnknownSemiringError(
        f"unknown semiring {semiring!r}; the known ones are {', '.join(SEMIRINGS)} "
        "(or build your own with pathad.Semiring)"
    )


def check_laws(
    semiring: SemiringLike, samples: Iterable[Any], *, equal: Callable[[Any, Any], Any] = operator.eq
) -> None:
    """Check the semiring laws on every combination of ``samples``; raise on the first that fails.

    Checked: ⊕ associative and commutative with identity ``zero``; ⊗
    associative with identity ``one`` on both sides; ``zero`` annihilating ⊗
    on both sides; ⊗ distributing over ⊕ from the left and the right; and ⊗
    commuting when the semiring says it does.  ``zero`` and ``one`` are added
    to the samples.  Cost: O(len(samples)³) operations.

    Parameters
    ----------
    semiring : Semiring or str
    samples : iterable of elements
    equal : callable, optional
        Equality of elements (e.g. a tolerance for floats).

    Raises
    ------
    SemiringLawError
        Naming the law and the elements it fails on.

    Examples
    --------
    >>> check_laws(COUNTING, [2, 3, 7])
    >>> check_laws(Semiring("max-plus, zero 0", 0, 0, max, operator.add), [2, -3])
    Traceback (most recent call last):
    ...
    pathad.errors.SemiringLawError: max-plus, zero 0: zero is not the identity of ⊕: a = -3
    """
    s = as_semiring(semiring)
    elements = [s.zero, s.one, *samples]
    laws = _LAWS + (_COMMUTATIVE_TIMES if s.commutative else ())
    for name, arity, sides in laws:
        for combo in itertools.product(elements, repeat=arity):
            left, right = sides(s, *combo)
            if not equal(left, right):
                shown = ", ".join(f"{letter} = {value!r}" for letter, value in zip("abc", combo))
                raise SemiringLawError(f"{s.name}: {name}: {shown}")


# --- the laws: each returns the two sides that must be equal -----------------


def _plus_associative(s, a, b, c):
    return s.plus(s.plus(a, b), c), s.plus(a, s.plus(b, c))


def _plus_commutative(s, a, b):
    return s.plus(a, b), s.plus(b, a)


def _zero_identity(s, a):
    return s.plus(s.zero, a), a


def _times_associative(s, a, b, c):
    return s.times(s.times(a, b), c), s.times(a, s.times(b, c))


def _one_left_identity(s, a):
    return s.times(s.one, a), a


def _one_right_identity(s, a):
    return s.times(a, s.one), a


def _zero_left_annihilates(s, a):
    return s.times(s.zero, a), s.zero


def _zero_right_annihilates(s, a):
    return s.times(a, s.zero), s.zero


def _left_distributive(s, a, b, c):
    return s.times(a, s.plus(b, c)), s.plus(s.times(a, b), s.times(a, c))


def _right_distributive(s, a, b, c):
    return s.times(s.plus(b, c), a), s.plus(s.times(b, a), s.times(c, a))


def _times_commutative(s, a, b):
    return s.times(a, b), s.times(b, a)


_LAWS = (
    ("⊕ is not associative", 3, _plus_associative),
    ("⊕ is not commutative", 2, _plus_commutative),
    ("zero is not the identity of ⊕", 1, _zero_identity),
    ("⊗ is not associative", 3, _times_associative),
    ("one is not the identity of ⊗ (left)", 1, _one_left_identity),
    ("one is not the identity of ⊗ (right)", 1, _one_right_identity),
    ("zero does not annihilate ⊗ (left)", 1, _zero_left_annihilates),
    ("zero does not annihilate ⊗ (right)", 1, _zero_right_annihilates),
    ("⊗ does not distribute over ⊕ (left)", 3, _left_distributive),
    ("⊗ does not distribute over ⊕ (right)", 3, _right_distributive),
)
_COMMUTATIVE_TIMES = (("⊗ is not commutative, but commutative=True", 2, _times_commutative),)
