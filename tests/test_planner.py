"""The planner's counts, made from the structure alone, against the methods run with every ⊗ and ⊕ counted."""

import numpy as np
import pytest
from test_coloring import banded
from test_cross_country import waist
from test_flat_adjacency import traced

import pathad
from pathad.coloring import color
from pathad.elimination import eliminated_jacobian
from pathad.enumeration import pattern_of, start_bits
from pathad.planner import METHODS, plan_jacobian


def counted_sweeps(obj, groups, starts, ends, forward):
    """The ⊗ and ⊕ of one counted REAL sweep per group of starts (their indices), restricted to ``ends``: what
    the methods perform (``obj`` a trace or a graph)."""
    real = pathad.counted(pathad.REAL)
    for group in groups:
        pathad.solve(obj, [starts[j] for j in group], direction="forward" if forward else "backward",
                     semiring=real, targets=ends)  # fmt: skip
    return real.count.times, real.count.plus


def counted_pattern(obj, columns, rows):
    """The ⊗ and ⊕ of the counted BITSETS sweep that finds the pattern: from the shorter side."""
    bits = pathad.counted(pathad.BITSETS)
    forward = len(columns) <= len(rows)
    starts, ends = (columns, rows) if forward else (rows, columns)
    pathad.solve(obj, start_bits(starts), direction="forward" if forward else "backward", semiring=bits,
                 targets=ends)  # fmt: skip
    return bits.count.times, bits.count.plus


def cases():
    yield pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), 3.0, 5.0)
    yield pathad.trace(waist, 0.1, 0.2, 0.3)
    yield pathad.trace(banded, np.linspace(0.1, 1.0, 30))
    for seed in range(12):
        yield traced(seed)


@pytest.mark.parametrize("tr", list(cases()), ids=lambda tr: tr.name)
@pytest.mark.filterwarnings("ignore:program\\[3\\] does not depend")
def test_every_count_is_what_the_method_performs(tr):
    columns, rows = list(tr.inputs.values()), list(tr.outputs)
    plan = plan_jacobian(tr)
    costs = {name: (cost.times, cost.plus) for name, cost in plan.costs.items()}
    assert set(costs) == set(METHODS)
    swept = pathad.jacobian_cost(tr)
    assert costs["forward"] == (swept["forward"].times, swept["forward"].plus)
    assert costs["backward"] == (swept["backward"].times, swept["backward"].plus)
    pattern = pattern_of(tr, columns, rows)
    finding = counted_pattern(tr, columns, rows)
    for name, forward in (("colored-forward", True), ("colored-backward", False)):
        groups = color(pattern, axis="columns" if forward else "rows").groups
        starts, ends = (columns, rows) if forward else (rows, columns)
        times, plus = counted_sweeps(tr, groups, starts, ends, forward)
        assert costs[name] == (times + finding[0], plus + finding[1]), name
        assert plan.costs[name].sweeps == len(groups) + 1
    _, eliminated = eliminated_jacobian(tr, columns, rows, "markowitz")
    assert costs["elimination"] == (eliminated["times"], eliminated["plus"])
    assert plan.costs[plan.best].total == min(c.total for c in plan.costs.values())


def test_the_banded_jacobian_is_planned_colored():
    tr = pathad.trace(banded, np.linspace(0.1, 1.0, 200))
    plan = plan_jacobian(tr)
    assert plan.costs["colored-forward"].sweeps == 4  # three colours and the pattern
    assert plan.costs["forward"].sweeps == 200
    # in ⊗ and ⊕ the 200 narrow forward sweeps are cheaper (each takes only its input's few edges); the colouring
    # saves sweeps, which is what a compiled tape pays for (a fixed pass per sweep)
    assert plan.costs["forward"].total < plan.costs["colored-forward"].total
    assert plan.best == min(plan.costs, key=lambda m: (plan.costs[m].total, METHODS.index(m)))
    assert plan.why().startswith(plan.best + ":")


def test_the_waist_is_planned_for_elimination():
    plan = plan_jacobian(pathad.trace(waist, 0.1, 0.2, 0.3))
    assert plan.best == "elimination"
    assert plan.why() == "elimination: 17 ⊗ + 3 ⊕, against 20 ⊗ + 3 ⊕ for forward"
