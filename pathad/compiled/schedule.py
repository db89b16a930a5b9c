"""Planning a sweep: one :class:`Schedule` per direction, run by numpy (:mod:`.sweeps`) or numba.

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
values are arrays of shape (nodes, batch).  :func:`pathad.compiled.sweeps.sweep`
runs a plan with numpy calls; :func:`pathad.compiled.numba_backend.sweep_numba`
runs the same plan in a compiled loop (no per-call overhead, and trees filled
parent by parent instead of by pointer jumping).  This module knows nothing
about networkx or tracing.

Examples
--------
A chain 0→1→2 and an edge 0→2; node 2 is a root with two in-edges:

>>> import numpy as np
>>> src, dst = np.array([0, 1, 0]), np.array([1, 2, 2])
>>> plan = Schedule(3, gather=dst, other=src)
>>> from pathad.compiled.sweeps import sweep
>>> values = sweep(plan, np.array([[2.0], [3.0], [1.0]]), [0], ARRAY_SEMIRINGS["real"])
>>> values.ravel().tolist()
[1.0, 2.0, 7.0]
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np

__all__ = [
    "ArraySemiring",
    "ARRAY_SEMIRINGS",
    "Schedule",
    "levels",
    "expand_ranges",
    "index_dtype",
    "tree_products",
    "jump",
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
    return jump(plan, weights[plan.tree_edge], semiring.times)[0]


def jump(plan, acc, times):
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
