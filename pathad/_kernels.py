"""The sweeps and replays behind :mod:`pathad.compiled`: one plan per direction, run by numpy or numba.

The generic :func:`pathad.solve` visits one edge at a time.  Here a direction's
sweep is planned once as a few arrays and then run as a short list of numpy
calls, whatever the weights (partials at a replayed point, a batch of them):

* **Trees.**  A node with exactly one incoming edge (in the sweep's direction:
  one in-edge forward, one out-edge backward) gets value(parent) ⊗ w.  Such
  nodes hang in trees off *roots* (nodes with none or several incoming edges).
  Every tree node's value is value(root) ⊗ acc, acc being the ⊗-product of the
  weights on the tree path; the products are found for all tree nodes at once by
  pointer jumping (each round doubles the distance covered, so a chain of
  length d costs log2(d) rounds, not d).
* **Levels.**  Only roots are levelled: level(root) = 1 + the greatest level of
  a root that reaches it through one edge and a tree path.  A level's roots are
  gathered with one ``plus.reduceat`` over their incoming edges; then every
  tree hanging off them is filled with one ``times``.

A 10⁶-deep chain is one tree (one level, 20 rounds); the backward sweep of a
loop that sums 800 terms is one level too, since every partial sum is used
once.  What stays slow is depth made of *roots*: a long chain of nodes that
each have several incoming edges (the forward sweep through that same sum).

A semiring needs ⊕ as a numpy ufunc with ``reduceat`` and ⊗ elementwise;
values are arrays of shape (nodes, batch).  The same plan can instead be run by
a loop compiled with numba (:func:`sweep_numba`, when numba is installed): no
per-call overhead, and trees filled parent by parent instead of by pointer
jumping.  :func:`run_program` replays a recorded program (a :class:`Program`:
op nodes with the primitive table's own rules compiled by numba, and sums of
products fused into one loop each) and its backward pass.  This module knows nothing
about networkx or tracing; see :mod:`pathad.compiled` for the public side.

Examples
--------
A chain 0→1→2 and an edge 0→2; node 2 is a root with two in-edges:

>>> import numpy as np
>>> src, dst = np.array([0, 1, 0]), np.array([1, 2, 2])
>>> plan = Schedule(3, gather=dst, other=src)
>>> values = sweep(plan, np.array([[2.0], [3.0], [1.0]]), [0], ARRAY_SEMIRINGS["real"])
>>> values.ravel().tolist()
[1.0, 2.0, 7.0]
"""

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .primitives import PRIMITIVES

__all__ = [
    "ArraySemiring",
    "ARRAY_SEMIRINGS",
    "Schedule",
    "sweep",
    "sweep_numba",
    "Program",
    "run_program",
    "node_depths",
    "SUM",
    "numba_available",
    "NUMBA_CODES",
    "levels",
    "expand_ranges",
    "index_dtype",
    "tree_products",
]


@dataclass(frozen=True)
class ArraySemiring:
    """A numeric semiring on numpy arrays: ``plus`` a ufunc (for ``reduceat``), ``times`` elementwise.

    Examples
    --------
    >>> s = ARRAY_SEMIRINGS["min-plus"]
    >>> s.plus.reduce([3.0, 1.0]), s.times(1.0, 2.0)
    (np.float64(1.0), np.float64(3.0))
    """

    name: str
    dtype: object
    zero: object
    one: object
    plus: np.ufunc
    times: object


def _scores_times(a, b):
    """MAX_TIMES scores: products, with -inf (no path) absorbing even a zero score."""
    with np.errstate(invalid="ignore"):
        product = np.multiply(a, b)
    return np.where((a == -np.inf) | (b == -np.inf), -np.inf, product)


#: The numeric semirings of :mod:`pathad.semirings` as array operations, by name.
#: MAX_TIMES keeps only the score here (-inf = no path); its paths are rebuilt
#: by :mod:`pathad.compiled`.  COUNTING runs in float64 (exact below 2**53) and
#: again on Python ints (object arrays) when a count is larger.
ARRAY_SEMIRINGS = {
    "real": ArraySemiring("real", np.float64, 0.0, 1.0, np.add, np.multiply),
    "boolean": ArraySemiring("boolean", np.bool_, False, True, np.logical_or, np.logical_and),
    "counting": ArraySemiring("counting", np.float64, 0.0, 1.0, np.add, np.multiply),
    "counting-exact": ArraySemiring("counting-exact", object, 0, 1, np.add, np.multiply),
    "max-times": ArraySemiring("max-times", np.float64, -np.inf, 1.0, np.maximum, _scores_times),
    "min-plus": ArraySemiring("min-plus", np.float64, np.inf, 0.0, np.minimum, np.add),
    "max-plus": ArraySemiring("max-plus", np.float64, -np.inf, 0.0, np.maximum, np.add),
}


def index_dtype(*sizes):
    """int32 when every size fits (half the memory of int64), else int64.

    Examples
    --------
    >>> index_dtype(10, 2**40)
    <class 'numpy.int64'>
    """
    return np.int32 if max(sizes, default=0) < 2**31 - 1 else np.int64


def expand_ranges(starts, ends):
    """The concatenation of ``range(s, e)`` for each pair, as one array (no Python loop).

    Examples
    --------
    >>> expand_ranges(np.array([0, 5]), np.array([2, 8])).tolist()
    [0, 1, 5, 6, 7]
    """
    lengths = ends - starts
    total = int(lengths.sum())
    ends_cum = np.cumsum(lengths)
    return np.arange(total) - np.repeat(ends_cum - lengths - starts, lengths)


def levels(n, tail, head, nodes):
    """Longest-path level of each of ``nodes`` over the edges tail→head among them (Kahn, a frontier per round).

    Returns an array of length ``n``: 0 for nodes without incoming edges, else
    1 + the greatest level of a tail; -1 outside ``nodes``.  One round per
    level, each a handful of numpy calls.

    Raises
    ------
    networkx.NetworkXUnfeasible
        If some of ``nodes`` lie on a cycle.

    Examples
    --------
    >>> levels(4, np.array([0, 1, 0]), np.array([1, 2, 2]), np.arange(3)).tolist()
    [0, 1, 2, -1]
    """
    remaining = np.bincount(head, minlength=n)
    order = np.argsort(tail, kind="stable")
    heads = head[order]
    first = np.searchsorted(tail[order], np.arange(n + 1))
    level = np.full(n, -1, dtype=np.int64)
    frontier = nodes[remaining[nodes] == 0]
    depth = 0
    while frontier.size:
        level[frontier] = depth
        reached, counts = np.unique(heads[expand_ranges(first[frontier], first[frontier + 1])], return_counts=True)
        remaining[reached] -= counts
        frontier = reached[remaining[reached] == 0]
        depth += 1
    stuck = nodes[level[nodes] < 0]
    if stuck.size:
        raise nx.NetworkXUnfeasible(f"the graph has a cycle (through node position {int(stuck[0])})")
    return level


class Schedule:
    """The plan of one sweep direction: trees, their roots, and the roots' levels.

    Parameters
    ----------
    n : int
        Number of nodes (positions 0..n-1).
    gather, other : arrays of node positions, one entry per edge
        Along edge k the sweep reads ``other[k]`` and adds into ``gather[k]``
        (forward: gather = heads, other = tails; backward: the reverse).
    forced_roots : array of positions, optional
        Nodes to treat as roots even with one incoming edge (seeds in the
        middle of a tree, whose value is ``one`` ⊕ what flows in).

    Positions must be a topological order (every edge from a lower to a
    higher position), as in a compiled tape: within a level, tree nodes are
    then stored parents first, which the numba loop relies on.

    Attributes
    ----------
    tree_nodes, tree_edge, tree_root, tree_parent : arrays
        Tree nodes sorted by level (parents first), the edge into each, its
        root and its parent.
    root_nodes, root_edges, root_starts : arrays
        Roots with incoming edges sorted by level; their incoming edges grouped
        per root; where each root's group starts.
    root_offsets, edge_offsets, tree_offsets : arrays
        Where each level starts in the three lists above.

    Examples
    --------
    >>> plan = Schedule(3, gather=np.array([1, 2, 2]), other=np.array([0, 1, 0]))
    >>> plan.tree_nodes.tolist(), plan.root_nodes.tolist(), plan.depth
    ([1], [2], 2)
    """

    def __init__(self, n, gather, other, forced_roots=()):
        self.n = n
        self._gather, self._other = gather, other
        count = np.bincount(gather, minlength=n)
        tree = count == 1
        tree[np.asarray(forced_roots, dtype=np.int64)] = False
        by_gather = np.argsort(gather, kind="stable")
        first = np.searchsorted(gather[by_gather], np.arange(n + 1))
        edge_into = np.full(n, -1, dtype=np.int64)
        edge_into[tree] = by_gather[first[:-1][tree]]
        root = _tree_roots(tree, other, edge_into)
        level = _root_levels(n, tree, gather, other, root)
        level[tree] = level[root[tree]]
        self.depth = int(level.max(initial=-1)) + 1
        self._store_trees(tree, edge_into, root, level)
        self._store_roots(tree, by_gather, first, level, other)
        self.tree_parent = other[self.tree_edge]
        self.parent_index = _parent_index(self.tree_nodes, self.tree_parent, n)
        del self._gather, self._other

    def _store_trees(self, tree, edge_into, root, level):
        nodes = np.flatnonzero(tree)  # positions ascending; the sweep's own order within a level:
        if nodes.size and self.other_first(edge_into[nodes[:1]]):
            nodes = nodes[::-1]  # backward, a parent (the consumer) comes after its tree children
        nodes = nodes[np.argsort(level[nodes], kind="stable")]
        self.tree_nodes, self.tree_edge, self.tree_root = nodes, edge_into[nodes], root[nodes]
        self.tree_offsets = np.searchsorted(level[nodes], np.arange(self.depth + 1))

    def _store_roots(self, tree, by_gather, first, level, other):
        degree = first[1:] - first[:-1]
        nodes = np.flatnonzero(~tree & (degree > 0))
        nodes = nodes[np.argsort(level[nodes], kind="stable")]
        self.root_nodes = nodes
        self.root_edges = by_gather[expand_ranges(first[nodes], first[nodes + 1])]
        self.root_readers = other[self.root_edges]
        self.root_starts = np.concatenate(([0], np.cumsum(degree[nodes])[:-1])).astype(np.int64)
        self.root_offsets = np.searchsorted(level[nodes], np.arange(self.depth + 1))
        self.edge_offsets = np.append(self.root_starts, self.root_edges.size)[self.root_offsets]

    def other_first(self, edges):
        """Whether the sweep reads edges from the later position (a backward sweep over a topological numbering)."""
        return bool(self._other[edges][0] > self._gather[edges][0])

    @property
    def nbytes(self):
        """Bytes held by the plan's arrays."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))


def _tree_roots(tree, other, edge_into):
    """Each node's root: itself for a root, else the first non-tree node up its tree (pointer jumping)."""
    root = np.arange(tree.size)
    nodes = np.flatnonzero(tree)
    root[nodes] = other[edge_into[nodes]]
    for _ in range(64):
        jumped = root[root[nodes]]
        if np.array_equal(jumped, root[nodes]):
            return root
        root[nodes] = jumped
    raise nx.NetworkXUnfeasible(f"the graph has a cycle (through node position {int(nodes[tree[root[nodes]]][0])})")


def _root_levels(n, tree, gather, other, root):
    """Levels of the roots over the contracted edges root(other) → gather."""
    into_root = ~tree[gather]
    return levels(n, root[other[into_root]], gather[into_root], np.flatnonzero(~tree))


def _parent_index(tree_nodes, parents, n):
    """For each tree node, the index of its parent in ``tree_nodes`` (-1 when the parent is a root)."""
    index = np.full(n, -1, dtype=np.int64)
    index[tree_nodes] = np.arange(tree_nodes.size)
    return index[parents]


def tree_products(plan, weights, semiring):
    """acc for every tree node: the ⊗-product of the weights on its path from its root, by pointer jumping.

    ``acc[v] = acc[parent] ⊗ acc[v]`` and ``parent = parent of parent`` for
    all nodes at once, until every path reaches its root.  These are raw
    float products: associated this way a product of normal numbers can
    underflow or overflow where the sequential one does not, so :func:`sweep`
    does not use them as they are (see :func:`_tree_fill`).
    """
    return _jump(plan, weights[plan.tree_edge], semiring.times)[0]


def _jump(plan, acc, times):
    """Pointer jumping on ``acc`` (one row per tree node), in place: (acc, the number of rounds)."""
    up = plan.parent_index.copy()
    active = np.flatnonzero(up >= 0)
    rounds = 0
    while active.size:
        above = up[active]
        acc[active] = times(acc[above], acc[active])
        up[active] = up[above]
        active = active[up[active] >= 0]
        rounds += 1
    return acc, rounds


#: How ⊗ acts on the floats of a numeric semiring: "times" multiplies them (products may leave the range of
#: normal floats), "plus" adds them (sums may overflow); absent: no range to lose (booleans, Python ints).
_ARITHMETIC = {"real": "times", "counting": "times", "max-times": "times", "min-plus": "plus", "max-plus": "plus"}
#: Path products are kept within 2**±_BAND_LOG2: the product of two such floats is a normal float (2**-1022 is the
#: smallest, 2**1024 overflows), rounded once like any product of normal floats.
_BAND_LOG2 = 511
_BAND_LOW, _BAND_HIGH = 2.0**-_BAND_LOG2, 2.0**_BAND_LOG2
_TINY, _HUGE = float(np.finfo(np.float64).tiny), float(np.finfo(np.float64).max)


def _banded(x, exponent):
    """Keep ``x`` within the band: entries outside it (not inf or nan) become their np.frexp mantissa, their
    exponent added to ``exponent`` (allocated when None).  Returns (bound, exponent): bound a K with |log2 |x|| <= K
    for every finite entry."""
    magnitude = np.abs(x)
    lo, hi = float(magnitude.min()), float(magnitude.max())
    if lo >= _BAND_LOW and hi <= _BAND_HIGH:  # false for nan, which then takes the slow way round
        return max(math.log2(hi), -math.log2(lo), 0.0), exponent
    out = (magnitude < _BAND_LOW) | (magnitude > _BAND_HIGH)
    if exponent is None:
        exponent = np.zeros(x.shape, dtype=np.int64)
    x[out], carry = np.frexp(x[out])
    exponent[out] += carry
    magnitude[out] = 1.0  # the mantissas, within [0.5, 1), or inf and nan (whose product is inf or nan anyway)
    lo, hi = float(magnitude.min()), float(magnitude.max())
    bound = max(math.log2(hi), -math.log2(lo), 1.0) if lo >= _BAND_LOW and hi <= _BAND_HIGH else math.inf
    return min(bound, float(_BAND_LOG2)), exponent


def _banded_products(plan, acc):
    """Pointer-jumped products of ``acc`` (no zeros in it) as ``acc · 2**exponent``: (acc, exponent or None).

    Every entry of ``acc`` is kept within 2**±511 (those that leave it move
    their binary exponent into ``exponent``, allocated only then), so the
    product of two entries is always a normal float: no product loses range,
    and none is rounded more than a product of normal floats is.  A round's
    products are only measured (the least and greatest magnitude) when a
    bound does not already place them in the band: entries within 2**±K
    multiply to within 2**±2K, and a measured round gives K its actual value.
    While no exponent is needed the products are exactly those of plain
    pointer jumping (:func:`tree_products`).
    """
    if acc.size == 0:
        return acc, None
    bound, exponent = _banded(acc, None)
    up = plan.parent_index.copy()
    active = np.flatnonzero(up >= 0)
    while active.size:
        above = up[active]
        product = acc[above] * acc[active]
        carried = None if exponent is None else exponent[above] + exponent[active]
        if 2 * bound <= _BAND_LOG2 - 1:  # (a margin for the rounding of log2)
            bound *= 2
        else:
            measured, carried = _banded(product, carried)
            bound = max(bound, measured)
        acc[active] = product
        if carried is not None:
            if exponent is None:  # the first entries to leave the band: from here on exponents are carried
                exponent = np.zeros(acc.shape, dtype=np.int64)
            exponent[active] = carried
        up[active] = up[above]
        active = active[up[active] >= 0]
    return acc, exponent


def _tree_fill(plan, weights, semiring, own=None):
    """``fill(root_values, level, a, b)``: value(root) ⊗ acc for the tree nodes a:b of ``level``, acc the
    ⊗-product of the weights along the path.

    Pointer jumping associates the product differently from the sweep's
    own order, value(parent) ⊗ w edge by edge: float products of products
    can underflow (to 0 or a subnormal) or overflow where every sequential
    value is a normal number, and sums of sums overflow.  So:

    * when ⊗ multiplies floats (real, counting, max-times), the products are
      kept within 2**±511 by moving binary exponents aside
      (:func:`_banded_products`), where needed only: then value(root) ⊗ acc
      is rounded to a float once, at the end, by ``np.ldexp``;
    * when ⊗ adds floats (min-plus, max-plus), a sum of finite numbers that
      overflows stays non-finite; if some acc is, the sums are formed again
      on the weights scaled by 2**-(rounds + 1) (exact but in the subnormals,
      and no sum can overflow then) and those nodes take
      (value(root) · s + acc · s) / s.

    Weights equal to ``zero`` (``own``: whether each tree node's own weight
    is, None when none is) count as ``one`` here: ``sweep`` zeroes those
    paths itself (a zero factor would hide a lost product behind an exact 0).
    """
    kind = _ARITHMETIC.get(semiring.name) if weights.dtype == np.float64 else None
    if kind is None:
        acc = tree_products(plan, weights, semiring)
        return lambda roots, level, a, b: semiring.times(roots, acc[a:b])

    def initial():  # a fresh array each time: the jumping works in place
        acc = weights[plan.tree_edge]
        return np.where(own, semiring.one, acc) if own is not None else acc

    if kind == "times":
        products, exponent = _banded_products(plan, initial())
        if exponent is None:
            return lambda roots, level, a, b: semiring.times(roots, products[a:b])
        # where acc · 2**exponent is a normal float it is exact: only the others keep their exponent
        exact = np.ldexp(products, exponent)
        magnitude = np.abs(exact)
        keep = (exponent != 0) & ~((magnitude >= _TINY) & (magnitude <= _HUGE))
        products, exponent = np.where(keep, products, exact), np.where(keep, exponent, 0)
        kept = np.concatenate(([0], np.cumsum(keep.any(axis=1))))
        slow = kept[plan.tree_offsets[1:]] > kept[plan.tree_offsets[:-1]]  # the levels with such nodes

        def fill(roots, level, a, b):
            filled = semiring.times(roots, products[a:b])
            if not slow[level]:
                return filled
            # value(root) ⊗ acc ⊗ 2**exponent, rounded to a float once: the mantissa product is normal
            root_mantissa, root_exponent = np.frexp(roots)
            scaled = np.ldexp(semiring.times(root_mantissa, products[a:b]), root_exponent + exponent[a:b])
            return np.where(keep[a:b] & (roots != semiring.zero), scaled, filled)

        return fill
    sums, rounds = _jump(plan, initial(), np.add)
    if np.isfinite(sums).all():
        return lambda roots, level, a, b: roots + sums[a:b]
    scale = 2.0 ** -(rounds + 1)
    scaled = _jump(plan, initial() * scale, np.add)[0]
    finite = np.isfinite(sums)

    def fill_sums(roots, level, a, b):
        filled = np.where(finite[a:b], roots + sums[a:b], (roots * scale + scaled[a:b]) / scale)
        return np.where(roots == semiring.zero, semiring.zero, filled)

    return fill_sums


def _zero_on_path(plan, weights, semiring, own=None):
    """For every tree node, whether a weight on its path from its root is ``zero`` (then its value is zero).

    Pointer jumping as :func:`tree_products`, on the exact test ``w == zero``
    (``own``, when given: that test for each tree node's own weight) rather
    than on products, which may have overflowed (inf · 0 is nan) or
    underflowed to 0 without a zero factor.
    """
    own = weights[plan.tree_edge] == semiring.zero if own is None else own.copy()
    return _jump(plan, own, np.logical_or)[0]


def sweep(plan, weights, seeds, semiring, batch=1):
    """Run a planned sweep: path values from ``seeds`` for every node, shape (n, batch).

    Tree nodes get value(root) ⊗ acc, acc the pointer-jumped product of the
    weights on their path; a product that leaves the range of normal floats
    there (where the sequential products need not) is noticed and the path
    products are formed again safely (see :func:`_tree_fill`): the values are
    the sequential ones up to rounding, never an artefact of the association.

    Parameters
    ----------
    plan : Schedule
    weights : array of shape (edges, 1) or (edges, batch)
        Edge weights already in the semiring (e.g. partials for ``real``).
    seeds : sequence of node positions
        Seeded with ``one``; a seed with one incoming edge must be a forced
        root of ``plan``.
    semiring : ArraySemiring
    batch : int
        The batch size of the result (weights broadcast to it).

    Examples
    --------
    >>> plan = Schedule(2, gather=np.array([1, 1]), other=np.array([0, 0]))
    >>> sweep(plan, np.array([[2.0], [3.0]]), [0], ARRAY_SEMIRINGS["max-plus"]).ravel().tolist()
    [0.0, 3.0]

    A chain under a root of value 1e300: 1e-200 · 1e-200 underflows, the
    path values 1e100 and 1e-100 do not:

    >>> plan = Schedule(4, gather=np.array([1, 1, 2, 3]), other=np.array([0, 0, 1, 2]))
    >>> w = np.array([[1e300], [0.0], [1e-200], [1e-200]])
    >>> sweep(plan, w, [0], ARRAY_SEMIRINGS["real"]).ravel().tolist()
    [1.0, 1e+300, 1e+100, 1e-100]
    """
    values = np.full((plan.n, batch), semiring.zero, dtype=semiring.dtype)
    seeded = np.zeros(plan.n, dtype=bool)
    seeded[np.asarray(seeds, dtype=np.int64)] = True
    values[seeded] = semiring.one
    if semiring.dtype == np.float64 and weights.dtype != np.float64:  # integer products would wrap around
        weights = weights.astype(np.float64)
    with np.errstate(all="ignore"):  # overflow shows as inf/nan in the values, which the callers check
        # zero annihilates: an edge whose weight is zero adds no term, even where the path value it meets
        # overflowed (inf · 0 would be nan); only weights that are exactly zero count, not products that
        # underflowed to it
        zeros = semiring.dtype != object and bool((weights == semiring.zero).any())
        own = weights[plan.tree_edge] == semiring.zero if zeros else None
        fill = _tree_fill(plan, weights, semiring, own)
        dead = _zero_on_path(plan, weights, semiring, own) if zeros else None
        root_weights = weights[plan.root_edges]
        for level in range(plan.depth):
            _gather_roots(plan, level, values, root_weights, semiring, seeded, zeros)
            a, b = plan.tree_offsets[level], plan.tree_offsets[level + 1]
            if a < b:
                roots = values[plan.tree_root[a:b]]
                filled = fill(roots, level, a, b)
                if zeros:
                    filled = np.where(dead[a:b] | (roots == semiring.zero), semiring.zero, filled)
                values[plan.tree_nodes[a:b]] = filled
    return values


def _gather_roots(plan, level, values, root_weights, semiring, seeded, zeros=False):
    """One level's roots: ⊕ over their incoming edges of value(other) ⊗ w (⊕ ``one`` for a seed).

    With ``zeros`` (some weight is the semiring's zero), an edge whose weight
    is zero contributes zero whatever value(other) is.
    """
    a, b = plan.root_offsets[level], plan.root_offsets[level + 1]
    if a == b:
        return
    lo, hi = plan.edge_offsets[level], plan.edge_offsets[level + 1]
    w = root_weights[lo:hi]
    incoming = semiring.times(values[plan.root_readers[lo:hi]], w)
    if zeros:
        incoming = np.where(w == semiring.zero, semiring.zero, incoming)
    gathered = semiring.plus.reduceat(incoming, plan.root_starts[a:b] - lo, axis=0)
    nodes = plan.root_nodes[a:b]
    seeds = seeded[nodes]
    if seeds.any():
        gathered[seeds] = semiring.plus(semiring.one, gathered[seeds])
    values[nodes] = gathered


# --- the same plans run by compiled loops (numba, optional) -----------------------------
#
# ``sweep_numba`` runs the same Schedule (the same levels, the same order of ⊕
# within a root) but fills each tree node from its parent, value(parent) ⊗ w, in
# one pass, where numpy multiplies value(root) by a pointer-jumped product: the
# same path products, associated differently, so the two agree exactly where the
# arithmetic is exact (boolean, counting, dyadic weights) and to rounding
# otherwise.  The loop saves numpy's per-call overhead and the log(depth) factor
# of pointer jumping, which dominate on deep or small graphs.  ``run_program`` evaluates the program
# unit by unit with the primitive table's own rules compiled by numba against a
# scalar math namespace; numba calls the C math library as tracing does, while
# numpy's vectorized exp, log, tanh, tan and pow may round the last bit
# differently, so the two replays agree to within an ulp or so per such operation.

#: Semiring codes of the compiled loops (boolean runs on 0.0/1.0 there).
NUMBA_CODES = {"real": 0, "counting": 0, "boolean": 1, "max-times": 2, "min-plus": 3, "max-plus": 4}


def numba_available():
    """Whether numba can be imported (the optional extra ``pathad[fast]``).

    Examples
    --------
    >>> numba_available() in (True, False)
    True
    """
    from importlib.util import find_spec  # a cheap check; numba itself loads only when used

    return find_spec("numba") is not None


def sweep_numba(plan, weights, seeds, semiring, batch=1):
    """:func:`sweep` run by a numba loop over the same plan; same arguments, same result shape (n, batch).

    The loop keeps one point's values contiguous (arrays (batch, n) inside,
    returned transposed), so a single point runs as fast as a 1-D loop.
    """
    as_float = semiring.name == "boolean"
    w = np.ascontiguousarray(weights.T, dtype=np.float64)
    seeded = np.zeros(plan.n, dtype=np.bool_)
    seeded[np.asarray(seeds, dtype=np.int64)] = True
    values = np.empty((batch, plan.n))
    zero, one = (0.0, 1.0) if as_float else (float(semiring.zero), float(semiring.one))
    _numba_kernels().sweep(NUMBA_CODES[semiring.name], zero, one, seeded, w, *_plan_arrays(plan), values)
    return values.T.astype(bool) if as_float else values.T


def _plan_arrays(plan):
    return (plan.tree_edge, plan.tree_parent, plan.tree_nodes, plan.tree_offsets, plan.root_nodes,
            plan.root_readers, plan.root_edges, plan.root_starts, plan.root_offsets)  # fmt: skip


#: The unit kind of a fused sum in a :class:`Program`'s ``units`` (other units hold their op code).
SUM = -1


@dataclass(frozen=True)
class Program:
    """A recorded program laid out for :func:`run_program`: value slots, units in order, fused sums.

    Every value lives in a *slot* (a row of the values array): the inputs
    first, in the trace's input order, then the nodes whose values are kept,
    then the distinct constants.  A *unit* is one step of the program:

    * an op node: ``(code, slot, slot of operand 0, slot of operand 1, partial
      row of edge 0, partial row of edge 1, 0, 0)``; the op's rules from the
      primitive table give its value and the partials, stored in their rows
      (-1: no edge, the operand is a constant or there is no second operand);
    * a fused sum, ``(SUM, slot, 0, 0, 0, 0, t0, t1)``: a chain of add/sub
      nodes, each partial sum used only by the next, equal to Σ sign_t · a_t
      (· b_t) over ``terms[t0:t1]``; a term is ``(slot a, slot b, fused)``,
      where ``fused`` = 1 stands for a product a·b whose only use is the sum.
      Only the last sum's value is kept; its partials (±1 and the other
      factor) are never stored, the backward pass applies them directly.

    ``terms`` and ``signs`` hold the terms; ``consts`` the constants' values
    (their slots are the last ones).
    """

    units: np.ndarray
    terms: np.ndarray
    signs: np.ndarray
    consts: np.ndarray
    n_slots: int
    n_partials: int


def run_program(program, points, back=None, seed=-1, active=None):
    """(values, partials, adjoint or None, all finite?) of ``program`` at ``points`` (inputs × batch) in one call.

    ``points`` may also carry ``fixed`` (k,) and ``rest`` (inputs − k, batch)
    (see :class:`pathad.compiled.CompiledTape`): the first k inputs the same at every point.

    Values and adjoints are arrays (slots, batch) and partials (rows, batch),
    a batch point's numbers contiguous per slot, so that every unit runs one
    tight loop over the batch.  Given ``back`` (the indices of the units on
    the way to the ``seed`` slot, last first) and ``active`` (a bool per slot:
    whose adjoint is wanted) the backward pass follows: each unit adds its
    adjoint times its partials into its active operands' adjoints.  Only the
    partials it needs are computed; "finite" covers them and every value.

    Examples
    --------
    >>> p = Program(np.array([[SUM, 2, 0, 0, 0, 0, 0, 2]]), np.array([[0, 1, 1], [1, 1, 0]]),
    ...             np.array([1.0, -1.0]), np.zeros(0), 3, 0)   # slot 2 = x·y − y
    >>> active = np.array([True, True, True])
    >>> values, _, adjoint, finite = run_program(p, np.array([[3.0], [5.0]]), np.array([0]), 2, active)
    >>> values[2, 0], adjoint[:2, 0].tolist(), finite
    (np.float64(10.0), [5.0, 2.0], True)
    """
    fixed, points = (points.fixed, points.rest) if hasattr(points, "fixed") else (_NO_VALUES, points)
    points = np.ascontiguousarray(points, dtype=np.float64)
    batch = points.shape[1]
    values = np.empty((program.n_slots, batch))
    partials = np.empty((program.n_partials, batch))
    if seed < 0:
        back = _NO_UNITS
    if active is None:  # no partials, no adjoints
        active = np.zeros(program.n_slots, dtype=np.bool_)
    adjoint = np.empty((program.n_slots if seed >= 0 else 0, batch))
    kernels = _numba_kernels()
    run = kernels.program_one if batch == 1 else kernels.program
    finite = run(program.units, program.terms, program.signs, program.consts,
                 fixed, points, back, seed, active, values, partials, adjoint)  # fmt: skip
    return values, partials, (adjoint if seed >= 0 else None), finite


_NO_UNITS = np.zeros(0, dtype=np.int64)
_NO_VALUES = np.zeros(0)


_NUMBA = {}


def _numba_kernels():
    """The compiled loops, built once per process (numba is imported only here: it takes a while)."""
    if not _NUMBA:
        import numba

        _NUMBA["kernels"] = _build_numba_kernels(numba)
    return _NUMBA["kernels"]


def _build_numba_kernels(numba):
    """Compile the primitive table's rules and the two loops with numba; returns a namespace."""
    from types import SimpleNamespace

    from ._numba_math import dispatchers, make_namespace

    jit = numba.njit(error_model="numpy")
    rules = dispatchers(numba)
    arity = np.array([0] + [p.arity for p in PRIMITIVES.values()], dtype=np.int64)
    one, many = (_program_loop(jit, make_namespace, rules.binary, rules.unary, arity, single)
                 for single in (True, False))  # fmt: skip
    return SimpleNamespace(program_one=one, program=many, sweep=_sweep_loop(jit), depths=jit(_depths))


def _depths(node_of):
    depth = np.zeros(node_of.shape[1], dtype=np.int64)
    for v in range(node_of.shape[1]):
        for j in range(node_of.shape[0]):
            u = node_of[j, v]
            if u >= 0 and depth[u] + 1 > depth[v]:
                depth[v] = depth[u] + 1
    return depth


def node_depths(node_of):
    """The longest path from an operand-free node to each node, by numba; ``node_of[j, v]`` is operand j of
    node v (-1: none) and every operand precedes its node.

    The same numbers :func:`levels` finds for any edge list; this one relies
    on the positions being a topological order and takes one pass instead of
    a round of numpy calls per level (a replayed 10⁶-deep loop has 10⁶ levels).

    Examples
    --------
    >>> node_depths(np.array([[-1, -1, 0, 2], [-1, -1, 1, -1]])).tolist()
    [0, 0, 1, 2]
    """
    return _numba_kernels().depths(np.ascontiguousarray(node_of, dtype=np.int64))


def _annihilated(product, factor):
    """``product`` (a · factor), or 0 where it is nan because ``factor`` is 0 (zero annihilates: inf · 0 is 0)."""
    if product != product and factor == 0.0:
        return 0.0
    return product


def _program_loop(jit, scalar_math, binary, unary, arity, single):
    # One function, no array-passing helpers: a call that passes arrays costs a reference count update per
    # array (~30 ns), more than a unit's whole work at batch size 1.  Built twice: with ``single`` (a constant
    # to numba) every loop over the batch has one turn and compiles away, which is what makes one point fast.
    annihilated = jit(_annihilated)  # numbers only: no reference counts, and LLVM inlines it

    @jit
    def program(units, terms, signs, consts, fixed, points, back, seed, active, values, partials, adjoint):
        """Inputs (``fixed`` ones first, then ``points``) and constants into their slots, every unit forward,
        then (seed >= 0) the backward pass.

        ``active`` marks the slots whose adjoints the backward pass needs:
        only partials into active operands of active units are computed.
        """
        m = scalar_math()
        batch = 1 if single else values.shape[1]
        finite = True
        for i in range(fixed.size):
            finite &= np.isfinite(fixed[i])
            for k in range(batch):
                values[i, k] = fixed[i]
        for i in range(points.shape[0]):
            for k in range(batch):
                values[fixed.size + i, k] = points[i, k]
                finite &= np.isfinite(points[i, k])
        first_const = values.shape[0] - consts.size
        for i in range(consts.size):
            for k in range(batch):
                values[first_const + i, k] = consts[i]
        for u in range(units.shape[0]):
            c, v, a, b, e, f = units[u, 0], units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
            if c == SUM:  # Σ sign·a(·b), added up in the program's own order
                t0 = units[u, 6]
                for t in range(t0, units[u, 7]):
                    a, b, s = terms[t, 0], terms[t, 1], signs[t]
                    if t == t0 and terms[t, 2]:
                        for k in range(batch):
                            values[v, k] = values[a, k] * values[b, k]
                    elif t == t0:
                        for k in range(batch):
                            values[v, k] = values[a, k]
                    elif terms[t, 2]:
                        for k in range(batch):
                            values[v, k] = values[v, k] + s * (values[a, k] * values[b, k])
                    else:
                        for k in range(batch):
                            values[v, k] = values[v, k] + s * values[a, k]
                for k in range(batch):  # a non-finite partial sum or product leaves the total non-finite too
                    finite &= np.isfinite(values[v, k])
                continue
            need_p = active[v] and active[a]
            need_q = f >= 0 and active[v] and active[b]
            for k in range(batch):
                if arity[c] == 2:
                    r, p, q = binary(c, m, values[a, k], values[b, k], need_p, need_q)
                else:
                    r, p, q = unary(c, m, values[a, k], 0.0, need_p, False)
                values[v, k] = r
                finite &= np.isfinite(r)
                if need_p:
                    partials[e, k] = p
                    finite &= np.isfinite(p)
                if need_q:
                    partials[f, k] = q
                    finite &= np.isfinite(q)
        if seed < 0:
            return finite
        adjoint[:] = 0.0
        adjoint[seed, :] = 1.0
        for i in range(back.size):
            u = back[i]
            v, a, b, e, f = units[u, 1], units[u, 2], units[u, 3], units[u, 4], units[u, 5]
            # a partial 0 adds nothing, even to an adjoint that overflowed (inf · 0 would be nan): zero annihilates.
            # A unit's partials are tested on the rare nan product, not on every zero (relu's 0s would make that
            # branch unpredictable); a product's factors in a sum are rarely 0, so they are tested directly.
            if units[u, 0] != SUM:  # each active operand gets adjoint · partial
                if active[a]:
                    for k in range(batch):
                        adjoint[a, k] += annihilated(adjoint[v, k] * partials[e, k], partials[e, k])
                if f >= 0 and active[b]:
                    for k in range(batch):
                        adjoint[b, k] += annihilated(adjoint[v, k] * partials[f, k], partials[f, k])
                continue
            for t in range(units[u, 6], units[u, 7]):  # a sum's partials: ±1, and the other factor of a product
                a, b, s = terms[t, 0], terms[t, 1], signs[t]
                if terms[t, 2] and active[a]:
                    for k in range(batch):
                        if values[b, k] != 0.0:
                            adjoint[a, k] += (s * adjoint[v, k]) * values[b, k]
                if terms[t, 2] and active[b]:
                    for k in range(batch):
                        if values[a, k] != 0.0:
                            adjoint[b, k] += (s * adjoint[v, k]) * values[a, k]
                if not terms[t, 2] and active[a]:
                    for k in range(batch):
                        adjoint[a, k] += s * adjoint[v, k]
        return finite

    return program


def _sweep_loop(jit):
    @jit
    def plus(code, a, b):
        if code == 0:
            return a + b
        if code == 3:
            return min(a, b)
        return max(a, b)  # boolean (or on 0/1), max-times, max-plus

    @jit
    def times(code, a, b):
        if code == 0:
            return a * b
        if code == 1:
            return min(a, b)  # and on 0/1
        if code == 2:
            return -np.inf if a == -np.inf or b == -np.inf else a * b
        return a + b

    @jit
    def sweep_one(code, zero, one, seeded, w, tree_edge, tree_parent, tree_nodes, tree_offsets,
                  root_nodes, root_readers, root_edges, root_starts, root_offsets, value):  # fmt: skip
        """One point: ``value`` (n,) from weights ``w`` (E,)."""
        for v in range(value.size):
            value[v] = one if seeded[v] else zero
        for level in range(tree_offsets.size - 1):
            for r in range(root_offsets[level], root_offsets[level + 1]):
                v, lo = root_nodes[r], root_starts[r]
                hi = root_starts[r + 1] if r + 1 < root_nodes.size else root_edges.size
                g = zero  # an edge whose weight is zero adds no term: zero annihilates (inf · 0 would be nan)
                for k in range(lo, hi):
                    wk, other = w[root_edges[k]], value[root_readers[k]]
                    term = times(code, other, wk)
                    if term != term and (wk == zero or other == zero):  # tested on the rare nan only
                        term = zero
                    g = plus(code, g, term)
                value[v] = plus(code, one, g) if seeded[v] else g
            for t in range(tree_offsets[level], tree_offsets[level + 1]):  # parents before children
                wt, parent = w[tree_edge[t]], value[tree_parent[t]]
                term = times(code, parent, wt)
                value[tree_nodes[t]] = zero if term != term and (wt == zero or parent == zero) else term

    @jit
    def sweep(code, zero, one, seeded, w, tree_edge, tree_parent, tree_nodes, tree_offsets,
              root_nodes, root_readers, root_edges, root_starts, root_offsets, values):  # fmt: skip
        """Each point in turn: ``values`` (B, n) from weights ``w`` (B, E) or (1, E)."""
        for b in range(values.shape[0]):
            weights = w[b if w.shape[0] > 1 else 0]
            sweep_one(code, zero, one, seeded, weights, tree_edge, tree_parent, tree_nodes, tree_offsets,
                      root_nodes, root_readers, root_edges, root_starts, root_offsets, values[b])  # fmt: skip

    return sweep
