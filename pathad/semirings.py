"""Semirings: the algebra a path problem is solved in.

A path problem over a semiring (S, ⊕, ⊗, 0̄, 1̄) asks, for nodes s and t, for the
⊕-sum over every path s→t of the ⊗-product of its edge weights (Mohri, "Semiring
frameworks and algorithms for shortest-distance problems", 2002; the CS701 notes
on automatic differentiation, section 3).  ``solve`` needs:

* ⊕ (``plus``, *combine*) associative and commutative, with identity ``zero``;
* ⊗ (``times``, *extend*) associative, with identity ``one``;
* ⊗ distributing over ⊕ on both sides.

On a DAG nothing else is required (⊕ need not be idempotent: 1 + 1 = 2 is what
makes derivatives add up over paths).

Examples
--------
>>> REAL.plus(REAL.one, REAL.times(2.0, 3.0))
7.0
"""

import operator
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Semiring", "REAL"]


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

    def __repr__(self):
        return f"Semiring({self.name!r})"


REAL = Semiring(
    "real",
    0.0,
    1.0,
    operator.add,
    operator.mul,
    description="sum over paths of the product of partials: the derivative ∂t/∂s",
)
