"""Sparsity in one sweep, colourings of it, and Jacobians compressed by them.

Oracles: the sparsity pattern by one BOOLEAN sweep per output (the old way),
the dense forward and backward Jacobians, central differences, and brute force
over colourings for the lower bound's sharpness on small patterns.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_flat_adjacency import traced  # random programs of x, y, z with several outputs

import pathad
from pathad.coloring import color
from pathad.enumeration import pattern_of


def per_output_pattern(tr, columns, rows):
    pattern = np.zeros((len(rows), len(columns)), dtype=bool)
    for i, row in enumerate(rows):
        reach = pathad.solve(tr, row, direction="backward", semiring="boolean", targets=columns)
        pattern[i] = [reach.get(c, False) for c in columns]
    return pattern


@pytest.mark.parametrize("seed", range(16))
def test_one_bitset_sweep_finds_the_pattern_of_one_sweep_per_output(seed):
    tr = traced(seed)
    columns, rows = list(tr.inputs.values()), list(tr.outputs)
    expected = per_output_pattern(tr, columns, rows)
    assert np.array_equal(pattern_of(tr, columns, rows), expected)  # forward (3 inputs, 3 or 4 outputs)
    assert np.array_equal(pattern_of(tr, columns, rows[:2]), expected[:2])  # backward: fewer outputs
    assert np.array_equal(pathad.sparsity(tr), expected)


patterns = st.integers(1, 7).flatmap(
    lambda rows: st.integers(1, 7).flatmap(
        lambda cols: st.lists(st.lists(st.booleans(), min_size=cols, max_size=cols), min_size=rows, max_size=rows)
    )
)


@settings(max_examples=150, deadline=None)
@given(patterns, st.sampled_from(["columns", "rows"]))
def test_colourings_are_valid_and_not_below_the_bound(rows, axis):
    pattern = np.array(rows, dtype=bool)
    c = color(pattern, axis=axis)
    c.check(pattern)
    n = pattern.shape[1 if axis == "columns" else 0]
    assert sorted(j for g in c.groups for j in g) == list(range(n))
    assert c.lower_bound <= c.count <= n
    if n <= 6:  # the bound is a bound: the fewest classes of any valid colouring, by brute force, is not below it
        cells = pattern if axis == "columns" else pattern.T
        assert c.lower_bound <= optimum(cells) <= c.count


def optimum(cells):
    n = cells.shape[1]
    for k in range(1, n + 1):
        for assignment in itertools.product(range(k), repeat=n):
            groups = [[j for j in range(n) if assignment[j] == colour] for colour in range(k)]
            if all(cells[:, g].sum(axis=1).max(initial=0) <= 1 for g in groups if g):
                return k
    return n


def test_an_invalid_colouring_is_named():
    from pathad.coloring import Coloring

    bad = Coloring([[0, 1]], "by hand", 2, "columns")
    with pytest.raises(ValueError, match=r"columns \[0, 1\] share row 0"):
        bad.check(np.array([[True, True]]))


def banded(v):
    n = len(v)
    return np.array([v[max(i - 1, 0)] * v[i] + pathad.sin(v[min(i + 1, n - 1)]) for i in range(n)], dtype=object)


def banded_float(v):
    n = len(v)
    return np.array([v[max(i - 1, 0)] * v[i] + math.sin(v[min(i + 1, n - 1)]) for i in range(n)])


@pytest.mark.parametrize("mode", ["colored-forward", "colored-backward"])
def test_a_banded_jacobian_takes_three_sweeps(mode):
    point = np.linspace(0.1, 1.0, 200)
    tr = pathad.trace(banded, point)
    J = pathad.jacobian(tr, mode=mode)
    assert J.sweeps == 3 == J.coloring.lower_bound and J.mode == mode
    dense = pathad.jacobian(tr, mode="forward").matrix
    assert np.array_equal(J.matrix, dense)  # each entry is the same single path sum
    step = 1e-6
    for j in (0, 57, 199):
        e = np.zeros(200)
        e[j] = step
        column = (banded_float(point + e) - banded_float(point - e)) / (2 * step)
        np.testing.assert_allclose(J.matrix[:, j], column, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("mode", ["colored-forward", "colored-backward"])
@pytest.mark.filterwarnings("ignore:program\\[3\\] does not depend")  # some programs return a constant too
def test_compressed_jacobians_of_random_programs(seed, mode):
    tr = traced(seed)
    J = pathad.jacobian(tr, mode=mode)
    dense = pathad.jacobian(tr, mode="backward").matrix
    np.testing.assert_allclose(J.matrix, dense, rtol=1e-12, atol=1e-300)
    J.coloring.check(pathad.sparsity(tr))
