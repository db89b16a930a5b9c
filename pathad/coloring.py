"""Compressed Jacobians: inputs that share no output swept together, by colouring the sparsity pattern.

A forward sweep seeded at several inputs at once gives each output the sum of
its derivatives with respect to them (the path problem from a set of
sources).  If no output depends on two of them, every term of that sum is a
single Jacobian entry: the columns of one colour class of the *column
intersection graph* (columns adjacent when some row has both) are recovered
from one sweep.  Backward, rows that share no input are swept together the
same way.  The pattern comes from the BOOLEAN semiring (:func:`pathad.sparsity`).

The colouring is networkx's greedy colouring (:func:`networkx.greedy_color`).
No strategy is best on every graph, and each costs far less than one sweep
of a graph worth compressing, so :func:`color` tries ``smallest_last`` (which
finds optimal colourings of banded and block patterns), DSATUR
(``saturation_largest_first``, up to :data:`DSATUR_LIMIT` columns: networkx's
is quadratic) and ``largest_first`` and keeps the fewest colours, preferring
them in that order.  The largest number of nonzeros in a
row (columns) or column (rows) is a lower bound: those columns must all differ.

Examples
--------
>>> import numpy as np
>>> pattern = np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool)  # each row reads two neighbours
>>> c = color(pattern)
>>> c.count, c.lower_bound, c.groups
(2, 2, [[0, 2], [1, 3]])
"""

from dataclasses import dataclass

import networkx as nx
import numpy as np

__all__ = ["Coloring", "color", "STRATEGIES"]

#: The greedy strategies tried, in order of preference on a tie.
STRATEGIES = ("smallest_last", "saturation_largest_first", "largest_first")

#: DSATUR is quadratic in networkx (it rescans the uncoloured nodes per step): tried up to this many only.
DSATUR_LIMIT = 100


@dataclass(frozen=True)
class Coloring:
    """A grouping of a pattern's columns (or rows) into classes that share no row (column).

    Attributes
    ----------
    groups : list of list of int
        The classes, each a sorted list of column (row) indices, in order of their first index.
    strategy : str
        The networkx strategy that found it.
    lower_bound : int
        No valid colouring has fewer classes: the most nonzeros of one row (column).
    axis : {"columns", "rows"}
    """

    groups: list
    strategy: str
    lower_bound: int
    axis: str

    @property
    def count(self):
        """The number of classes: the number of sweeps."""
        return len(self.groups)

    def check(self, pattern):
        """Raise ValueError unless no two members of a class share a row (columns) or column (rows)."""
        cells = np.asarray(pattern, dtype=bool)
        cells = cells if self.axis == "columns" else cells.T
        for group in self.groups:
            shared = cells[:, group].sum(axis=1)
            if shared.size and shared.max() > 1:
                row = int(np.argmax(shared))
                members = [j for j in group if cells[row, j]]
                raise ValueError(f"{self.axis} {members} share {'row' if self.axis == 'columns' else 'column'} {row}")


def color(pattern, *, axis="columns", strategies=STRATEGIES):
    """Group the columns (``axis="columns"``) or rows of a boolean sparsity pattern that never meet.

    Parameters
    ----------
    pattern : array_like of bool, shape (rows, columns)
    axis : {"columns", "rows"}
        Columns: for forward sweeps seeded at several inputs.  Rows: for
        backward sweeps seeded at several outputs.
    strategies : sequence of str
        networkx greedy strategies to try; the fewest colours win.

    Returns
    -------
    Coloring
    """
    if axis not in ("columns", "rows"):
        raise ValueError(f"axis must be 'columns' or 'rows', got {axis!r}")
    cells = np.asarray(pattern, dtype=bool)
    if cells.ndim != 2:
        raise ValueError(f"a sparsity pattern is a 2-d array, got shape {cells.shape}")
    cells = cells if axis == "columns" else cells.T
    n = cells.shape[1]
    meets = (cells.T.astype(np.int64) @ cells.astype(np.int64)) > 0  # columns j, k share a row
    np.fill_diagonal(meets, False)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(*np.nonzero(np.triu(meets))))
    best = None
    for strategy in strategies:
        if strategy == "saturation_largest_first" and n > DSATUR_LIMIT and len(strategies) > 1:
            continue
        colours = nx.greedy_color(graph, strategy=strategy)
        count = 1 + max(colours.values(), default=-1)
        if best is None or count < best[0]:
            best = (count, strategy, colours)
    count, strategy, colours = best
    groups = {}
    for j in range(n):
        groups.setdefault(colours[j], []).append(j)
    ordered = sorted(groups.values(), key=lambda g: g[0])
    lower = int(cells.sum(axis=1).max()) if cells.size else 0
    return Coloring(ordered, strategy, lower, axis)
