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
once.  Depth made of *roots* (a long chain of nodes that each have several
incoming edges: the forward sweep through that same sum) would cost a dozen
numpy calls per level; such narrow levels go node by node instead, in a
Python loop over plain numbers or one numpy call per node on rows of the
batch (:meth:`Schedule.steps`, :class:`NodeRun`), with the same numbers.
Levels themselves are found by rounds of numpy calls, or, once the rounds
turn out narrow, by one pass in position order (:func:`levels`).

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
    "ranked_levels",
    "NodeRun",
    "NODE_DEGREE",
    "choose_ways",
    "expand_ranges",
    "distinct",
    "starts",
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


def distinct(x):
    """The sorted distinct entries of an integer array, by sorting (numpy 2's ``np.unique`` hashes, which is
    much slower on large arrays of big integers).

    Examples
    --------
    >>> distinct(np.array([5, 1, 5, 3])).tolist()
    [1, 3, 5]
    """
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]] if x.size else x


def starts(keys, n):
    """Where each key 0..n-1 starts in ``keys`` sorted (and where they end): ``np.searchsorted(sorted keys,
    np.arange(n + 1))``, by counting.

    Examples
    --------
    >>> starts(np.array([2, 0, 2]), 4).tolist()
    [0, 1, 1, 3, 3]
    """
    return np.concatenate(([0], np.cumsum(np.bincount(keys, minlength=n)[:n])))


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


#: Rough costs (seconds) for choosing how :func:`levels` runs: one round of numpy calls, one edge in a Python loop.
_ROUND_COST, _EDGE_COST = 20e-6, 0.2e-6


def levels(n, tail, head, nodes, rank=None):
    """Longest-path level of each of ``nodes`` over the edges tail→head among them.

    Returns an array of length ``n``: 0 for nodes without incoming edges, else
    1 + the greatest level of a tail; -1 outside ``nodes``.  Kahn's algorithm
    with a frontier per round, each round a handful of numpy calls: fast on
    wide graphs, one round per level on deep ones.  ``rank`` (optional): a
    number per node that grows along every edge (a topological order, such as
    the positions of a compiled tape).  With it, a graph whose rounds turn out
    narrow (a 10⁶-deep chain has 10⁶ levels) is finished by one pass over the
    edges in rank order instead, a plain Python loop (:func:`ranked_levels`).

    Raises
    ------
    networkx.NetworkXUnfeasible
        If some of ``nodes`` lie on a cycle.

    Examples
    --------
    >>> levels(4, np.array([0, 1, 0]), np.array([1, 2, 2]), np.arange(3)).tolist()
    [0, 1, 2, -1]
    >>> levels(4, np.array([0, 1, 0]), np.array([1, 2, 2]), np.arange(3), rank=np.arange(4)).tolist()
    [0, 1, 2, -1]
    """
    if rank is not None and not (tail.size == 0 or bool((rank[tail] < rank[head]).all())):
        rank = None  # not a topological order of these edges: Kahn alone (which also finds cycles)
    remaining = np.bincount(head, minlength=n)
    order = np.argsort(tail, kind="stable")
    heads = head[order]
    first = starts(tail, n)
    level = np.full(n, -1, dtype=np.int64)
    frontier = nodes[remaining[nodes] == 0]
    depth, settled, recent = 0, 0, []
    budget = _EDGE_COST * (tail.size + nodes.size)  # what the ranked pass over every edge costs
    while frontier.size:
        level[frontier] = depth
        settled += frontier.size
        recent = (recent + [frontier.size])[-8:]
        if rank is not None and depth >= 8 and (nodes.size - settled) / np.mean(recent) * _ROUND_COST > budget:
            return ranked_levels(n, tail, head, nodes, rank)  # the rounds left cost more than one pass
        reached, counts = np.unique(heads[expand_ranges(first[frontier], first[frontier + 1])], return_counts=True)
        remaining[reached] -= counts
        frontier = reached[remaining[reached] == 0]
        depth += 1
    stuck = nodes[level[nodes] < 0]
    if stuck.size:
        raise nx.NetworkXUnfeasible(f"the graph has a cycle (through node position {int(stuck[0])})")
    return level


def ranked_levels(n, tail, head, nodes, rank):
    """:func:`levels` by one pass over the edges sorted by the rank of their head, which must grow along every edge.

    When an edge into h is read, every edge into its tail has been (the
    tail ranks lower), so the tail's level is final.  A Python loop, about
    0.1 µs per edge, whatever the depth.

    Examples
    --------
    >>> ranked_levels(4, np.array([0, 1, 0]), np.array([1, 2, 2]), np.arange(3), np.arange(4)).tolist()
    [0, 1, 2, -1]
    """
    level = np.full(n, -1, dtype=np.int64)
    level[nodes] = 0
    order = np.argsort(rank[head], kind="stable")
    found = level.tolist()
    for h, t in zip(head[order].tolist(), tail[order].tolist()):
        above = found[t] + 1
        if above > found[h]:
            found[h] = above
    return np.array(found, dtype=np.int64)


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
        first = starts(gather, n)
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
        self._steps, self._runs = {}, {}

    def steps(self, batch):
        """How a sweep of ``batch`` points goes through the levels: [(first level, end level, way)], way one of
        "numpy", "python", "rows".

        A level costs a dozen numpy calls however few its numbers: "numpy"
        runs them level by level.  Narrow levels go node by node instead
        (:class:`NodeRun`): on Python numbers, one batch point at a time
        ("python": no numpy call at all), or on rows of the batch ("rows": a
        numpy call or two per node), whichever the rough costs
        (:data:`_LEVEL_COST`, :data:`_ROW_COST`, :data:`_PYTHON_COST`) say is
        cheapest.  A root with more than :data:`NODE_DEGREE` incoming edges
        keeps its level in numpy.  All three give the same numbers.
        """
        key = min(batch, _ROWS_FROM)  # from there on every batch size gets the same steps
        if key not in self._steps:
            self._steps[key] = self._plan_steps(key)
        return self._steps[key]

    def _plan_steps(self, batch):
        if self.depth == 0:
            return []
        numbers = np.diff(self.edge_offsets) + np.diff(self.tree_offsets)
        degree = np.diff(np.append(self.root_starts, self.root_edges.size))
        widest = np.zeros(self.depth, dtype=np.int64)
        np.maximum.at(widest, np.repeat(np.arange(self.depth), np.diff(self.root_offsets)), degree)
        ways = {"python": numbers * batch * _PYTHON_COST, "rows": numbers * _ROW_COST}
        level = np.full(self.depth, _LEVEL_COST)
        return choose_ways(level, ways, _RUN_COST, widest <= NODE_DEGREE, "numpy")

    def run(self, lo, hi, way):
        """The levels lo:hi laid out node by node (a :class:`NodeRun`) for ``way``, built when first asked for."""
        if (lo, hi, way) not in self._runs:
            self._runs[lo, hi, way] = NodeRun(self, lo, hi, way)
        return self._runs[lo, hi, way]

    def _store_trees(self, tree, edge_into, root, level):
        nodes = np.flatnonzero(tree)  # positions ascending; the sweep's own order within a level:
        if nodes.size and self.other_first(edge_into[nodes[:1]]):
            nodes = nodes[::-1]  # backward, a parent (the consumer) comes after its tree children
        nodes = nodes[np.argsort(level[nodes], kind="stable")]
        self.tree_nodes, self.tree_edge, self.tree_root = nodes, edge_into[nodes], root[nodes]
        self.tree_offsets = starts(level[nodes], self.depth)

    def _store_roots(self, tree, by_gather, first, level, other):
        degree = first[1:] - first[:-1]
        nodes = np.flatnonzero(~tree & (degree > 0))
        nodes = nodes[np.argsort(level[nodes], kind="stable")]
        self.root_nodes = nodes
        self.root_edges = by_gather[expand_ranges(first[nodes], first[nodes + 1])]
        self.root_readers = other[self.root_edges]
        self.root_starts = np.concatenate(([0], np.cumsum(degree[nodes])[:-1])).astype(np.int64)
        self.root_offsets = starts(level[nodes], self.depth)
        self.edge_offsets = np.append(self.root_starts, self.root_edges.size)[self.root_offsets]

    def other_first(self, edges):
        """Whether the sweep reads edges from the later position (a backward sweep over a topological numbering)."""
        return bool(self._other[edges][0] > self._gather[edges][0])

    @property
    def nbytes(self):
        """Bytes held by the plan's arrays."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))


#: Rough costs, in numpy calls, of sweeping a level (see Schedule.steps): by numpy (a dozen calls, however narrow),
#: per root edge or tree node by rows (a call or two), per number and batch point by a Python loop.
_LEVEL_COST, _ROW_COST, _PYTHON_COST = 14.0, 1.5, 0.12
#: The batch size from which rows beat the Python loop on every level (_ROW_COST / _PYTHON_COST).
_ROWS_FROM = 13
#: What a run of levels node by node costs besides its nodes (gathering its inputs, writing its results back).
_RUN_COST = 8.0


def choose_ways(level, ways, overhead, allowed, name):
    """Each level the way ``name`` (all of it at once, costing ``level``) or node by node: [(lo, hi, way)].

    ``ways`` gives per level what each node-by-node way would cost.  A level
    goes node by node where that is cheaper (and ``allowed``); a run of such
    levels then goes the one way cheapest over the whole run (no flapping
    between ways from one level to the next), and only if it saves more than
    ``overhead`` (the run's own cost) over going level by level.

    Examples
    --------
    >>> level = np.full(6, 10.0)
    >>> ways = {"a": np.array([1.0, 9.0, 2.0, 50.0, 1.0, 1.0]), "b": np.array([5.0, 5.0, 5.0, 50.0, 5.0, 5.0])}
    >>> choose_ways(level, ways, 3.0, np.ones(6, dtype=bool), "whole")
    [(0, 3, 'a'), (3, 4, 'whole'), (4, 6, 'a')]
    """
    names = list(ways)
    costs = np.array([ways[w] for w in names], dtype=np.float64)
    by_nodes = (costs.min(axis=0) < level) & allowed
    change = np.flatnonzero(by_nodes[1:] != by_nodes[:-1]) + 1
    bounds = np.concatenate(([0], change, [level.size])).tolist()
    totals = np.concatenate((np.zeros((len(names), 1)), np.cumsum(costs, axis=1)), axis=1)
    whole = np.concatenate(([0.0], np.cumsum(level)))
    steps = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        way = name
        if by_nodes[lo]:
            spent = totals[:, hi] - totals[:, lo]
            best = int(np.argmin(spent))
            if whole[hi] - whole[lo] - spent[best] > overhead:
                way = names[best]
        if steps and way == name == steps[-1][2]:
            steps[-1] = (steps[-1][0], hi, name)
        else:
            steps.append((lo, hi, way))
    return steps


#: A level goes node by node only if no root in it has more incoming edges than this (below 8 terms, numpy's
#: ``add.reduceat`` sums one by one, which the node-by-node ways repeat exactly).
NODE_DEGREE = 8


class NodeRun:
    """Levels lo:hi of a :class:`Schedule` node by node, as flat lists, for ``way`` "python" or "rows".

    Tree nodes are filled after the loop, all at once (value(root) ⊗ acc,
    ``late_nodes`` from ``late_roots`` with path products ``late_tree``),
    except, for "rows", those an edge of the run reads.  In the loop:

    * "rows": ``nodes`` in the sweep's order (per level: its roots, then its
      tree nodes that edges read), entry ``k`` a tree node when ``kinds[k]``
      is 0 (its path product ``index[k]`` counted from ``tree_lo``, its root
      ``tree_root_node[index[k]]``), else a root with ``kinds[k]`` incoming
      edges from ``index[k]`` on (counted from ``edge_lo``, their readers
      ``edge_node``);
    * "python": only the roots (``nodes``, with ``degrees`` and ``firsts``,
      their first edge counted from ``edge_lo``).  Numbers live in a list per
      batch point: first the values of the nodes read from outside the run
      (``outside``), then each root's in turn; edge e reads ``edge_slot[e]``,
      which for a tree node of the run (``tree_read``) is its root's number:
      the tree node's value is that times its path product
      (``edge_tree[e]``, counted from ``tree_lo``), formed on the way.
    """

    def __init__(self, plan, lo, hi, way):
        ra, rb = int(plan.root_offsets[lo]), int(plan.root_offsets[hi])
        self.edge_lo, self.edge_hi = int(plan.edge_offsets[lo]), int(plan.edge_offsets[hi])
        self.tree_lo, self.tree_hi = int(plan.tree_offsets[lo]), int(plan.tree_offsets[hi])
        roots, trees = plan.root_nodes[ra:rb], plan.tree_nodes[self.tree_lo : self.tree_hi]
        readers = plan.root_readers[self.edge_lo : self.edge_hi]
        tree_roots = plan.tree_root[self.tree_lo : self.tree_hi]
        ends = np.append(plan.root_starts[ra + 1 : rb], plan.edge_offsets[hi]) if rb > ra else plan.root_starts[:0]
        degree, first = ends - plan.root_starts[ra:rb], plan.root_starts[ra:rb] - self.edge_lo
        late = ~_among(trees, readers) if way == "rows" else np.ones(trees.size, dtype=bool)
        self.late_tree = self.tree_lo + np.flatnonzero(late)
        self.late_nodes, self.late_roots = trees[late], tree_roots[late]
        if way == "rows":
            root_level = np.repeat(np.arange(lo, hi), np.diff(plan.root_offsets[lo : hi + 1]))
            tree_level = np.repeat(np.arange(lo, hi), np.diff(plan.tree_offsets[lo : hi + 1]))[~late]
            order = np.lexsort((np.r_[np.zeros(roots.size), np.ones(tree_level.size)], np.r_[root_level, tree_level]))
            self.nodes = np.r_[roots, trees[~late]][order]
            self.kinds = np.r_[degree, np.zeros(tree_level.size, dtype=degree.dtype)][order].tolist()
            self.index = np.r_[first, np.flatnonzero(~late)][order].tolist()
            self.edge_node, self.tree_root_node = readers.tolist(), tree_roots.tolist()
            self.node_list = self.nodes.tolist()
            return
        self.nodes, self.degree, self.firsts = roots, degree.astype(np.int64), first.tolist()
        by_position = np.argsort(trees)
        place = np.minimum(np.searchsorted(trees[by_position], readers), max(trees.size - 1, 0))
        self.tree_read = _among(readers, trees)
        self.edge_tree = np.where(self.tree_read, np.append(by_position, 0)[place], -1)
        read = np.where(self.tree_read, tree_roots[np.maximum(self.edge_tree, 0)] if trees.size else 0, readers)
        computed = _among(read, roots)
        by_root = np.append(np.argsort(roots), 0)
        where = np.minimum(np.searchsorted(roots[by_root[:-1]], read), max(roots.size - 1, 0))
        self.outside = distinct(read[~computed])
        slot = np.where(computed, self.outside.size + by_root[where], np.searchsorted(self.outside, read))
        self.edge_slot, self.tree_reads = slot.tolist(), self.tree_read.tolist()
        self.degrees = self.degree.tolist()


def _among(items, pool):
    """Whether each of ``items`` is in ``pool`` (by sorting)."""
    if not pool.size:
        return np.zeros(items.size, dtype=bool)
    pool = np.sort(pool)
    return pool[np.minimum(np.searchsorted(pool, items), pool.size - 1)] == items


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
    """Levels of the roots over the contracted edges root(other) → gather.

    Positions are a topological order: forward they grow along the edges,
    backward they shrink, which gives :func:`levels` its rank.
    """
    into_root = ~tree[gather]
    tail, head = root[other[into_root]], gather[into_root]
    rank = np.arange(n) if not tail.size or tail[0] < head[0] else -np.arange(n)
    return levels(n, tail, head, np.flatnonzero(~tree), rank)


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
