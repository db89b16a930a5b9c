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
:func:`compress` says which entry each cell of the compressed Jacobian holds,
:func:`plot_coloring` draws both (needs matplotlib, the ``plot`` extra).

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
import numpy.typing as npt

__all__ = ["Coloring", "color", "compress", "meetings", "plot_coloring", "COLOR_LIMIT", "STRATEGIES"]

#: The greedy strategies tried, in order of preference on a tie.
STRATEGIES = ("smallest_last", "saturation_largest_first", "largest_first")

#: Above this many (row, pair of its columns) meetings, a planner leaves colouring out (see :func:`meetings`).
COLOR_LIMIT = 200_000

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
        The networkx strategy that found it ("dense" when a row meets every
        column, so that each column is its own class and nothing was coloured).
    lower_bound : int
        No valid colouring has fewer classes: the most nonzeros of one row (column).
    axis : {"columns", "rows"}
    """

    groups: list
    strategy: str
    lower_bound: int
    axis: str

    @property
    def count(self) -> int:
        """The number of classes: the number of sweeps."""
        return len(self.groups)

    def check(self, pattern: npt.ArrayLike) -> None:
        """Raise ValueError unless no two members of a class share a row (columns) or column (rows)."""
        cells = np.asarray(pattern, dtype=bool)
        cells = cells if self.axis == "columns" else cells.T
        for group in self.groups:
            shared = cells[:, group].sum(axis=1)
            if shared.size and shared.max() > 1:
                row = int(np.argmax(shared))
                members = [j for j in group if cells[row, j]]
                raise ValueError(f"{self.axis} {members} share {'row' if self.axis == 'columns' else 'column'} {row}")


def meetings(pattern, *, axis="columns"):
    """How many (row, pair of its nonzero columns) there are: a bound on the edges of the intersection graph.

    It is what building that graph costs, known before building it: a dense
    block of r rows and c columns makes r·c(c-1)/2 meetings.

    >>> meetings(np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool))
    3
    """
    cells = np.asarray(pattern, dtype=bool)
    per_row = (cells if axis == "columns" else cells.T).sum(axis=1).astype(np.int64)
    return int((per_row * (per_row - 1) // 2).sum())


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
    lower = int(cells.sum(axis=1).max()) if cells.size else 0
    if lower == n:  # a row meets every column: each its own class, no graph to build (a dense Jacobian)
        return Coloring([[j] for j in range(n)], "dense", lower, axis)
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
    return Coloring(ordered, strategy, lower, axis)


def compress(pattern, coloring):
    """Which entry of the Jacobian each cell of the compressed Jacobian holds: a column (row) index, or -1.

    A sweep seeded at every column of class c gives, in row i, the entry of
    the one column j of the class that row i has (none: 0).  For
    ``axis="rows"`` the classes are rows and the compressed matrix has one
    row per class.

    Parameters
    ----------
    pattern : array_like of bool, shape (rows, columns)
    coloring : Coloring
        A valid colouring of ``pattern`` (see :meth:`Coloring.check`).

    Returns
    -------
    numpy.ndarray of int
        Shape (rows, classes) for a colouring of columns: ``[i, c]`` is the
        column j of class c where row i is nonzero, -1 if none; shape
        (classes, columns) for a colouring of rows, ``[c, j]`` the row.

    Examples
    --------
    >>> pattern = np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool)
    >>> compress(pattern, color(pattern)).tolist()
    [[0, 1], [2, 1], [2, 3], [-1, 3]]
    """
    coloring.check(pattern)
    cells = np.asarray(pattern, dtype=bool)
    cells = cells if coloring.axis == "columns" else cells.T
    held = np.full((cells.shape[0], coloring.count), -1, dtype=np.int64)
    for c, group in enumerate(coloring.groups):
        for j in group:
            held[cells[:, j], c] = j
    return held if coloring.axis == "columns" else held.T


#: The colours of the classes in :func:`plot_coloring`, in order (then evenly spaced hues):
#: Okabe and Ito's colours, which readers with a colour vision deficiency tell apart too.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#7f7f7f")


def _class_colours(count):
    import matplotlib.colors as mcolors

    extra = max(count - len(PALETTE), 0)
    hues = [mcolors.hsv_to_rgb((k / extra, 0.65, 0.8)) for k in range(extra)]
    return [mcolors.to_rgb(c) for c in PALETTE[:count]] + [tuple(h) for h in hues]


def plot_coloring(pattern, coloring=None, *, title=None, annotate=None, figsize=None):
    """The sparsity pattern with each nonzero in its class's colour, beside the compressed pattern.

    Left, the pattern: a cell (i, j) is coloured when output i depends on
    input j, in the colour of column j's class (of row i's, for
    ``axis="rows"``).  Right, the compressed pattern, one column (row) per
    class, each a single sweep: a cell shows the colour of the class and the
    index of the one entry it holds (:func:`compress`).  The title gives the
    colours found against the lower bound.

    Parameters
    ----------
    pattern : array_like of bool, shape (rows, columns)
        E.g. :func:`pathad.sparsity` of a trace.
    coloring : Coloring, optional
        Default :func:`color` of ``pattern``.
    title : str, optional
        A first line above the counts.
    annotate : bool, optional
        Write the entry's index in each cell of the compressed pattern;
        default when it has at most 400 cells.
    figsize : (float, float), optional
        In inches; default from the pattern's shape.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot (no display needed): ``fig.savefig(path)``
        writes it.  ``fig.axes[0]`` is the pattern, ``fig.axes[1]`` the
        compressed pattern; each shows an image of class numbers (0 for a
        zero, c + 1 for class c).

    Examples
    --------
    >>> pattern = np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool)
    >>> fig = plot_coloring(pattern)
    >>> fig.axes[1].images[0].get_array().tolist()
    [[1, 2], [1, 2], [1, 2], [0, 2]]
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    cells = np.asarray(pattern, dtype=bool)
    coloring = color(cells) if coloring is None else coloring
    held = compress(cells, coloring)
    by_columns = coloring.axis == "columns"
    member = np.full(cells.shape[1] if by_columns else cells.shape[0], -1, dtype=np.int64)
    for c, group in enumerate(coloring.groups):
        member[group] = c
    classes = member[None, :] if by_columns else member[:, None]
    left = np.where(cells, classes + 1, 0)
    right = np.zeros(held.shape, dtype=np.int64)
    for c in range(coloring.count):
        if by_columns:
            right[:, c] = np.where(held[:, c] >= 0, c + 1, 0)
        else:
            right[c, :] = np.where(held[c, :] >= 0, c + 1, 0)
    colours = _class_colours(coloring.count)
    cmap = ListedColormap([(1.0, 1.0, 1.0), *colours])
    rows, columns = cells.shape
    wide = right.shape[1]
    if figsize is None:
        unit = min(0.42, 7.0 / max(columns + wide, 1), 5.0 / max(rows, 1))
        figsize = (max(4.5, unit * (columns + wide) + 2.4), max(3.0, unit * rows + 1.9))
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=[columns or 1, max(wide, 5)])  # room for the right one's title
    kind, sweeps = ("columns", "forward") if by_columns else ("rows", "backward")
    n = columns if by_columns else rows
    for ax, image in ((axes[0], left), (axes[1], right)):
        ax.imshow(image, cmap=cmap, vmin=-0.5, vmax=coloring.count + 0.5, interpolation="nearest", aspect="equal")
        ax.set_xticks(np.arange(-0.5, image.shape[1]), minor=True)
        ax.set_yticks(np.arange(-0.5, image.shape[0]), minor=True)
        ax.grid(which="minor", color="#d0d7de", linewidth=0.6)
        ax.tick_params(which="minor", length=0)
        ax.tick_params(labelsize=8)
        ax.set_yticks(range(image.shape[0]))
        ax.set_xticks(range(image.shape[1]))
    axes[0].set_title(f"sparsity pattern, nonzeros coloured by their {kind[:-1]}'s class", fontsize=9)
    axes[0].set_xlabel("input j", fontsize=9)
    axes[0].set_ylabel("output i", fontsize=9)
    if by_columns:
        axes[1].set_xticks(range(coloring.count), [f"{c + 1}" for c in range(coloring.count)])
        axes[1].set_xlabel(f"class: one {sweeps}\nsweep each", fontsize=9)
        for label, c in zip(axes[0].get_xticklabels(), member):
            label.set_color(colours[c] if c >= 0 else "black")
    else:
        axes[1].set_yticks(range(coloring.count), [f"{c + 1}" for c in range(coloring.count)])
        axes[1].set_ylabel(f"class: one {sweeps} sweep each", fontsize=9)
        for label, c in zip(axes[0].get_yticklabels(), member):
            label.set_color(colours[c] if c >= 0 else "black")
    for tick, colour in zip(axes[1].get_xticklabels() if by_columns else axes[1].get_yticklabels(), colours):
        tick.set_color(colour)
    held_by = "input j" if by_columns else "output i"
    axes[1].set_title(f"compressed: the {held_by}\nwhose entry each cell holds", fontsize=9)
    if annotate is None:
        annotate = held.size <= 400
    if annotate:
        for (i, c), j in np.ndenumerate(held):
            if j >= 0:
                red, green, blue = colours[c if by_columns else i]
                ink = "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.6 else "black"
                axes[1].text(c, i, str(j), ha="center", va="center", color=ink, fontsize=7, fontweight="bold")
    counts = f"{n} {kind} in {coloring.count} colours, lower bound {coloring.lower_bound}: "
    counts += f"{coloring.count} {sweeps} sweeps instead of {n}"
    fig.suptitle(f"{title}\n{counts}" if title else counts, fontsize=10)
    return fig
