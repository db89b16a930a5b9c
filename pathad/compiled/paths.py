"""What a compiled sweep returns: :class:`Sweep`, the path values by node, with best paths for max-times."""

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..semirings import SEMIRINGS, EdgePath, Scored
from ..types import Node
from .schedule import ARRAY_SEMIRINGS

if TYPE_CHECKING:
    from .tape import CompiledTape

__all__ = ["Sweep", "semiring_weights"]


class Sweep:
    """The path values of one compiled sweep.

    Attributes
    ----------
    values : numpy.ndarray
        One value per node position: floats (real, min-plus, max-plus), bools
        (boolean), int64 or, past 2**53, Python ints (counting), scores
        (max-times; -inf where no path has a nonzero product).  Nodes off every
        path hold the semiring's zero.
    semiring : str
        The semiring's name.

    Examples
    --------
    >>> import networkx as nx
    >>> from pathad import compile
    >>> tape = compile(nx.DiGraph([(0, 1, {"partial": -2.0}), (1, 2, {"partial": 3.0})]))
    >>> best = tape.solve(0, semiring="max-times")
    >>> best[2]
    Scored(score=6.0, edges=EdgePath(((0, 1, -2.0), (1, 2, 3.0))))
    >>> best.path(2) == ((0, 1, -2.0), (1, 2, 3.0))
    True
    """

    def __init__(
        self, tape: "CompiledTape", semiring: str, forward: bool, seeds: Any, values: np.ndarray,
        allowed: np.ndarray | None, signed: Any,
    ) -> None:  # fmt: skip
        self.semiring = semiring
        self.values = values if allowed is None else _outside_is_zero(values, allowed, semiring)
        self._tape, self._forward, self._seeds = tape, forward, seeds
        self._allowed, self._signed = allowed, signed

    def __repr__(self):
        return f"<Sweep {self.semiring} {'forward' if self._forward else 'backward'}: {int(self.reached.sum())} nodes>"

    @cached_property
    def reached(self) -> np.ndarray:
        """Boolean mask of the nodes on some path from the start (to the targets), as in :func:`pathad.solve`."""
        if not self._seeds:
            return np.zeros(self._tape.n_nodes, dtype=bool)
        reached = self._tape._reach(self._seeds, self._forward)
        return reached if self._allowed is None else reached & self._allowed

    def to_dict(self) -> dict[Node, Any]:
        """{node: path value} for the reached nodes, in the types :func:`pathad.solve` returns."""
        tape = self._tape
        positions = np.flatnonzero(self.reached)
        return {tape.node(int(p)): self._element(int(p)) for p in (positions if self._forward else positions[::-1])}

    def __getitem__(self, ref: Node) -> Any:
        position = self._tape.position(ref)
        if not self.reached[position]:
            raise KeyError(ref)
        return self._element(position)

    def get(self, ref: Node, default: Any = None) -> Any:
        """The path value of a node, ``default`` when no path reaches it."""
        try:
            return self[ref]
        except KeyError:
            return default

    def _element(self, position):
        value = self.values[position]
        if self.semiring == "boolean":
            return bool(value)
        if self.semiring == "counting":
            return int(value) if not isinstance(value, float | np.floating) else float(value)
        if self.semiring == "max-times":
            return _NO_PATH if value == -np.inf else Scored(float(value), self._paths.path(position))
        return float(value)

    def path(self, ref: Node) -> EdgePath:
        """The best path to (forward) or from (backward) a node: an :class:`~pathad.semirings.EdgePath` (max-times)."""
        if self.semiring != "max-times":
            raise ValueError(f"paths are kept by the max-times semiring, not {self.semiring!r}")
        return self[ref].edges

    @cached_property
    def _paths(self):
        return _BestPaths(self)


_NO_PATH = SEMIRINGS["max-times"].zero


def _outside_is_zero(values, allowed, semiring):
    values = values.copy()
    values[~allowed] = ARRAY_SEMIRINGS[semiring].zero if semiring != "counting" else 0
    return values


class _BestPaths:
    """The max-times argmax edge of every reached node, with the generic sweep's tie rule, and its paths.

    A node's best edge is the one whose candidate score equals the node's
    score; when several do, the tie goes to the path whose edge tuple sorts
    first (:func:`pathad.semirings._better`).  Backward, the paths differ in
    their first edge, so comparing (head, weight) decides; forward, the
    candidate paths are compared whole, in topological order, which is Python
    work for tied nodes only.  A seed whose score is 1 keeps its empty path.
    """

    def __init__(self, result):
        tape, forward = result._tape, result._forward
        self._tape, self._forward, self._signed = tape, forward, result._signed
        self._reader, self._gatherer = (tape.src, tape.dst) if forward else (tape.dst, tape.src)
        scores = result.values
        seed = np.zeros(tape.n_nodes, dtype=bool)
        seed[result._seeds] = True
        self.best = np.full(tape.n_nodes, -1, dtype=np.int64)
        self._memo = {}
        candidates = self._candidates(scores, result.reached, seed)
        self._choose(candidates)

    def _candidates(self, scores, reached, seed):
        """Edges whose path score is the node's: equal scores, or the only edge into a non-seed node.

        A node with a single incoming edge has its score computed along a
        tree (by pointer jumping, with numpy), which may round differently
        from score(reader) ⊗ |w|; that edge is its best whenever it has a path.
        """
        weights = semiring_weights("max-times", self._signed)
        offered = ARRAY_SEMIRINGS["max-times"].times(scores[self._reader], weights)
        target = scores[self._gatherer]
        only = (self._tape._in_count[self._forward] == 1) & ~seed
        ok = reached[self._gatherer] & (target > -np.inf) & ((offered == target) | only[self._gatherer])
        ok &= ~(seed[self._gatherer] & (target == 1.0))  # the empty path wins a tie at a seed
        return np.flatnonzero(ok)

    def _choose(self, candidates):
        nodes, counts = np.unique(self._gatherer[candidates], return_counts=True)
        order = np.argsort(self._gatherer[candidates], kind="stable")
        sorted_edges = candidates[order]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        single = counts == 1
        self.best[nodes[single]] = sorted_edges[starts[single]]
        tied = [(int(v), sorted_edges[s : s + c]) for v, s, c in zip(nodes[~single], starts[~single], counts[~single])]
        for node, edges in sorted(tied, key=lambda item: item[0], reverse=not self._forward):
            self.best[node] = min(edges, key=self._tie_key)

    def _tie_key(self, edge):
        tape = self._tape
        if self._forward:
            return _Ordered(self.path(int(tape.src[edge])) + self._edge_path(edge))
        return (tape.node(int(tape.dst[edge])), float(self._signed[edge]))

    def _edge_path(self, edge):
        tape = self._tape
        return EdgePath(((tape.node(int(tape.src[edge])), tape.node(int(tape.dst[edge])), float(self._signed[edge])),))

    def path(self, position):
        """The best path of a node, built by following best edges (iteratively, memoized)."""
        chain = []
        while position not in self._memo and self.best[position] >= 0:
            chain.append(position)
            position = int(self._reader[self.best[position]])
        path = self._memo.get(position, EdgePath())
        for node in reversed(chain):
            step = self._edge_path(self.best[node])
            path = path + step if self._forward else step + path
            self._memo[node] = path
        return path


class _Ordered:
    """Wraps an EdgePath for ``min``: its own ``<`` compares as tuples of edges."""

    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path

    def __lt__(self, other):
        return self.path < other.path


def semiring_weights(name, signed):
    """Weights in the semiring: max-times scores an edge |w|, and an edge with w = 0 is no path (-inf)."""
    if name == "max-times":
        return np.where(signed == 0, -np.inf, np.abs(signed))
    return signed
