"""A cost model for sweeps: count the ⊗ (extend) and ⊕ (combine) a path problem performs.

The count is taken by the algebra, not by the solver: :func:`counted` wraps a
semiring so that each ⊗ and ⊕ ticks a counter, and any sweep run over the
wrapped semiring is measured as it is, with no special code in the sweep.  One
sweep costs one ⊗ per edge of the part of the graph it visits (and about as
many ⊕), so the number of sweeps is what tells forward and reverse mode apart:
for the derivatives of |K| outputs with respect to |L| inputs (the lecture's
Fig. 5), forward mode needs |L| sweeps (one per input) and reverse mode |K|
(one per output).  :func:`jacobian_cost` runs both and reports the counts.

Examples
--------
>>> from pathad.tracing import trace
>>> def f(a, b, c):
...     return a * b + b * c + c * a
>>> cost = jacobian_cost(trace(f, 1.0, 2.0, 3.0))
>>> cost["forward"].sweeps, cost["backward"].sweeps
(3, 1)
>>> cost["forward"].times > cost["backward"].times
True
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from .semirings import REAL, Semiring, as_semiring
from .solver import solve
from .tracing import Trace, check_trace, resolve_node
from .types import NodeRef, SemiringLike

__all__ = ["OpCount", "Counted", "counted", "SweepCost", "jacobian_cost"]


@dataclass
class OpCount:
    """Running totals of ⊗ (``times``) and ⊕ (``plus``) operations.

    Examples
    --------
    >>> OpCount(times=3, plus=1).total
    4
    """

    times: int = 0
    plus: int = 0

    @property
    def total(self):
        """⊗ and ⊕ together."""
        return self.times + self.plus


@dataclass(frozen=True, repr=False)
class Counted(Semiring):
    """A semiring whose ⊗ and ⊕ tally themselves in ``count`` (made by :func:`counted`)."""

    count: OpCount = field(default_factory=OpCount)


def counted(semiring: SemiringLike = REAL) -> Counted:
    """The same semiring, with every ⊗ and ⊕ counted in the result's ``count``.

    Everything else (identities, commutativity, default weight, whether its
    elements must be finite) is kept, so it can replace the original in any
    sweep: a counted REAL sweep whose path value overflows raises
    :class:`pathad.DomainError` as the REAL one does.  Each wrapper has its
    own count.

    Parameters
    ----------
    semiring : Semiring or str

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph([("x", "u", {"partial": 2.0}), ("x", "t", {"partial": 1.0}),
    ...                      ("u", "t", {"partial": 3.0})])
    >>> real = counted()
    >>> solve(G, "x", semiring=real)["t"], real.count.times
    (7.0, 3)
    """
    base = as_semiring(semiring)
    count = OpCount()

    def plus(a, b):
        count.plus += 1
        return base.plus(a, b)

    def times(a, b):
        count.times += 1
        return base.times(a, b)

    kept = {f.name: getattr(base, f.name) for f in fields(Semiring)}  # every field, so that new ones pass through too
    kept.update(name=f"counted {base.name}", plus=plus, times=times)
    return Counted(**kept, count=count)


@dataclass(frozen=True)
class SweepCost:
    """What one way of computing a Jacobian costs.

    Attributes
    ----------
    mode : str
        "forward" or "backward".
    sweeps : int
        One per input (forward) or per output (backward).
    times, plus : int
        The ⊗ and ⊕ performed by all the sweeps together.
    """

    mode: str
    sweeps: int
    times: int
    plus: int

    @property
    def total(self):
        """⊗ and ⊕ together."""
        return self.times + self.plus


def jacobian_cost(
    tr: Trace, wrt: Sequence[NodeRef] | None = None, of: Sequence[NodeRef] | None = None
) -> dict[str, "SweepCost"]:
    """Count the work of the Jacobian ∂of/∂wrt both ways: |wrt| forward or |of| backward sweeps.

    Each sweep is restricted to the nodes between its start and the other
    side's nodes, as :func:`pathad.jacobian` does.

    Parameters
    ----------
    tr : Trace
    wrt, of : lists of node references, optional
        Inputs (columns) and outputs (rows); default every input and output.

    Returns
    -------
    dict
        {"forward": SweepCost, "backward": SweepCost}

    Examples
    --------
    >>> from pathad.tracing import trace
    >>> tr = trace(lambda x: (x * x, 3.0 * x, x + 1.0), 2.0)
    >>> cost = jacobian_cost(tr)
    >>> (cost["forward"].sweeps, cost["forward"].times), (cost["backward"].sweeps, cost["backward"].times)
    ((1, 4), (3, 4))
    """
    check_trace(tr, "jacobian_cost")
    columns = [resolve_node(tr, r) for r in (tr.inputs if wrt is None else wrt)]
    rows = list(tr.outputs) if of is None else [resolve_node(tr, r) for r in of]
    return {"forward": _cost(tr, columns, rows, "forward"), "backward": _cost(tr, rows, columns, "backward")}


def _cost(tr, starts, ends, direction):
    real = counted(REAL)
    for start in starts:
        solve(tr.graph, start, direction=direction, semiring=real, targets=ends)
    return SweepCost(direction, len(starts), real.count.times, real.count.plus)
