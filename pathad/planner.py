"""Count before computing: the exact ⊗ and ⊕ of every way to a Jacobian, from the graph's structure alone.

Which edges a sweep takes depends on which starts reach them, not on any
value; so two sweeps of the :data:`~pathad.BITSETS` semiring (every column's
bit forward, every row's backward) tell, for every edge, how many of the |L|
forward sweeps and the |K| backward ones take it, and how many terms each
node receives in each.  From those sets follow, with no float arithmetic:

* ``forward``: |L| sweeps, one ⊗ per edge taken, one ⊕ per term after a node's first;
* ``backward``: |K| sweeps, the same against the edges;
* ``colored-forward`` / ``colored-backward``: one sweep per colour class of
  the sparsity pattern (:mod:`pathad.coloring`), plus the pattern's own
  (BITSETS: its ⊗ and ⊕ are bit operations on ints, counted all the same);
* ``elimination``: vertex elimination in Markowitz order, modelled on the
  edge multiplicities (each product one ⊗, each one that lands on an edge
  already there one ⊕).

:func:`plan_jacobian` returns them all and the cheapest (fewest ⊗ + ⊕; on a
tie the earlier in that list); ``pathad.jacobian(mode="auto")`` follows it.
The counts are those the methods then perform (a test runs each counted).

Examples
--------
>>> import pathad
>>> tr = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), x=3.0, y=5.0)
>>> plan = plan_jacobian(tr)
>>> {name: (c.times, c.plus) for name, c in plan.costs.items()}["backward"], plan.best
((9, 3), 'elimination')
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .coloring import COLOR_LIMIT, color, meetings
from .cost import SweepCost
from .elimination import jacobian_graph, markowitz, model_eliminate, multiplicities
from .enumeration import start_bits
from .semirings import BITSETS
from .solver import solve
from .tracing import Trace, check_graph, resolve_node
from .types import GraphLike, Node

__all__ = ["Plan", "plan_jacobian", "METHODS"]

#: The methods a plan weighs, in the order that breaks ties.
METHODS = ("backward", "forward", "colored-backward", "colored-forward", "elimination")


@dataclass(frozen=True)
class Plan:
    """What each way to the Jacobian ∂rows/∂columns costs, and the cheapest.

    Attributes
    ----------
    costs : dict
        method -> :class:`~pathad.cost.SweepCost` (``sweeps`` 0 for elimination).
    best : str
        The method with the fewest ⊗ + ⊕.
    skipped : dict
        method -> why it was not counted (a colouring whose intersection
        graph would be too large to build: :data:`~pathad.coloring.COLOR_LIMIT`).
    """

    costs: dict
    best: str
    skipped: dict = field(default_factory=dict)

    def why(self) -> str:
        """One line: the choice and what it saves against the next cheapest (and what was not counted)."""
        ranked = sorted(self.costs.values(), key=lambda c: c.total)
        best, runner = self.costs[self.best], next((c for c in ranked if c.mode != self.best), None)
        text = f"{self.best}: {best.times} ⊗ + {best.plus} ⊕"
        if runner is not None:
            text += f", against {runner.times} ⊗ + {runner.plus} ⊕ for {runner.mode}"
        for name, reason in self.skipped.items():
            text += f"; {name} not counted: {reason}"
        return text


def plan_jacobian(tr: GraphLike, wrt: Sequence[Node] | None = None, of: Sequence[Node] | None = None) -> Plan:
    """The exact ⊗/⊕ counts of :data:`METHODS` for ∂of/∂wrt, and the cheapest (see the module docstring).

    ``wrt`` and ``of`` are lists of node references (default: every input,
    every output), as for :func:`pathad.jacobian`; a plain graph has neither,
    so it needs both.
    """
    check_graph(tr, "plan_jacobian")
    if not isinstance(tr, Trace) and (wrt is None or of is None):
        raise TypeError("plan_jacobian of a networkx graph needs wrt= and of=: a graph has no inputs and outputs")
    graph = tr.graph if isinstance(tr, Trace) else tr
    columns = [resolve_node(tr, r) for r in (tr.inputs if wrt is None else wrt)]
    rows = list(tr.outputs) if of is None else [resolve_node(tr, r) for r in of]
    return plan_nodes(tr, graph, columns, rows)


def plan_nodes(tr, graph, columns, rows):
    """:func:`plan_jacobian` for lists of node ids.

    Two BITSETS sweeps serve every count: ``ahead`` (node -> the columns
    that reach it) and ``behind`` (node -> the rows it reaches).  A forward
    sweep from column j takes the edges u→v with bit j in ahead[u] and v in
    ``behind`` (some row is reached from v); backward alike; the pattern is
    ahead at the rows.
    """
    ahead, behind = _bits(tr, columns, True), _bits(tr, rows, False)

    def sweeps(forward, groups, name):
        starts, bits, useful = (columns, ahead, behind) if forward else (rows, behind, ahead)
        return _sweeps(graph, starts, bits, useful, forward, groups, name)

    costs = {
        "forward": sweeps(True, [[j] for j in range(len(columns))], "forward"),
        "backward": sweeps(False, [[i] for i in range(len(rows))], "backward"),
    }
    pattern = np.array([[(ahead.get(r, 0) >> j) & 1 for j in range(len(columns))] for r in rows], dtype=bool)
    pattern = pattern.reshape(len(rows), len(columns))
    # what finding the pattern costs: one BITSETS sweep from every start of the shorter side (pattern_of's)
    by_columns = len(columns) <= len(rows)
    finding = sweeps(by_columns, [list(range(len(columns if by_columns else rows)))], "pattern")
    skipped = {}
    for name, forward in (("colored-forward", True), ("colored-backward", False)):
        axis = "columns" if forward else "rows"
        met = meetings(pattern, axis=axis)
        if met > COLOR_LIMIT:
            skipped[name] = f"colouring its {axis} would meet {met} pairs (limit {COLOR_LIMIT})"
            continue
        swept = sweeps(forward, color(pattern, axis=axis).groups, name)
        costs[name] = SweepCost(name, swept.sweeps + 1, swept.times + finding.times, swept.plus + finding.plus)
    costs["elimination"] = _elimination(graph, columns, rows)
    best = min(costs, key=lambda m: (costs[m].total, METHODS.index(m)))
    return Plan(costs, best, skipped)


def _sweeps(graph, starts, reach, useful, forward, groups, name):
    """The ⊗ and ⊕ of one sweep per group of ``starts`` (their indices), each restricted to the ``useful`` nodes
    (those from which some end is reached); ``reach``: node -> the starts that reach it, as bits."""
    edges = graph.edges() if forward else ((v, u) for u, v in graph.edges())  # (tail, head) in sweep order
    taken = [(u, v, reach.get(u, 0)) for u, v in edges if u in useful and v in useful]
    if all(len(group) == 1 for group in groups):  # a sweep per start: count the starts by their bits
        times = sum(bits.bit_count() for _, _, bits in taken)
        arriving = {}
        for _, v, bits in taken:
            arriving[v] = arriving.get(v, 0) | bits
        # each start's first term at a node needs no ⊕ (a DAG brings no start its own bit)
        return SweepCost(name, len(groups), times, times - sum(b.bit_count() for b in arriving.values()))
    group_of = {}
    for k, group in enumerate(groups):
        group_of.update((j, k) for j in group)
    seeds = [{starts[j] for j in group} for group in groups]
    times = plus = 0
    terms = {}  # (head, group) -> terms received
    for _, v, bits in taken:
        hit = set()  # the groups with a start among the bits: one term each
        while bits:
            low = bits & -bits
            hit.add(group_of[low.bit_length() - 1])
            bits ^= low
        for k in hit:
            times += 1
            terms[v, k] = terms.get((v, k), 0) + 1
    for (v, k), count in terms.items():
        plus += count if v in seeds[k] else count - 1  # a seed adds every term to its own one
    return SweepCost(name, len(groups), times, plus)


def _bits(tr, starts, forward):
    seeds = start_bits(starts)
    return solve(tr, seeds, direction="forward" if forward else "backward", semiring=BITSETS) if seeds else {}


def _elimination(graph, columns, rows):
    """The ⊗ and ⊕ of :func:`pathad.elimination.eliminated_jacobian` in Markowitz order, on the model of
    :func:`~pathad.elimination.model_eliminate`: the same graph, the same choices, the same counts, no products."""
    work, columns, rows = jacobian_graph(graph, columns, rows)
    pred, succ = multiplicities(work)
    ends = set(columns) | set(rows)
    cost = lambda n: sum(pred[n].values()) * sum(succ[n].values())  # noqa: E731
    times = plus = 0
    for v in markowitz([n for n in work if n not in ends], cost, lambda n: {*pred[n], *succ[n]}):
        step_times, step_plus = model_eliminate(pred, succ, v)
        times, plus = times + step_times, plus + step_plus
    # an entry that is several parallel edges is summed once per time its row and column are listed
    listed = Counter(rows)
    plus += sum((m - 1) * listed[r] for c in columns if c in succ for r, m in succ[c].items() if m > 1 and r in listed)
    return SweepCost("elimination", 0, times, plus)
