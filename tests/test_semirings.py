"""The named semirings: their laws on samples, and every sweep against brute-force path enumeration."""

import math
import operator

import networkx as nx
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from pathad.cost import counted
from pathad.errors import MissingWeightError
from pathad.functions import sin
from pathad.semirings import (
    BOOLEAN,
    COUNTING,
    MAX_PLUS,
    MAX_TIMES,
    MIN_PLUS,
    REAL,
    SEMIRINGS,
    SYMBOLIC,
    EdgePath,
    Scored,
    Semiring,
    SemiringLawError,
    UnknownSemiringError,
    as_semiring,
    check_laws,
    influence,
)
from pathad.solver import solve
from pathad.tracing import trace


def spell(u, v, data):
    return frozenset({data["letter"]})


def concatenate(a, b):
    return frozenset(x + y for x in a for y in b)


# Paths as words, one letter per edge: ⊗ concatenates, so it is not commutative,
# and a sweep that multiplied in the wrong order would spell the words backwards.
WORDS = Semiring("words", frozenset(), frozenset({""}), frozenset.union, concatenate, commutative=False, weight=spell)


def symbolic_equal(a, b):
    return sympy.expand(a - b) == 0


X, Y = sympy.symbols("x y")

# (semiring, samples, equality): the samples are chosen so that the laws hold exactly
# (small integers and dyadic fractions, exact in floating point).
LAW_CASES = [
    (REAL, [-2.0, 0.5, 3.0], operator.eq),
    (BOOLEAN, [True, False], operator.eq),
    (COUNTING, [0, 2, 5], operator.eq),
    (MIN_PLUS, [-2.0, 0.0, 1.5, 7.0], operator.eq),
    (MAX_PLUS, [-2.0, 0.0, 1.5, 7.0], operator.eq),
    (
        MAX_TIMES,
        [
            Scored(2.0, EdgePath([("a", "b", 2.0)])),
            Scored(2.0, EdgePath([("a", "c", -2.0)])),  # ties with the first: broken by the edges
            Scored(3.0, EdgePath([("b", "c", 3.0)])),
            Scored(0.5, EdgePath([("c", "d", -0.5)])),
        ],
        operator.eq,
    ),
    (SYMBOLIC, [X, Y, sympy.Integer(2), X + Y], symbolic_equal),
    (WORDS, [frozenset({"a"}), frozenset({"b", "cd"}), frozenset({"ab"})], operator.eq),
    (counted(REAL), [-2.0, 0.5, 3.0], operator.eq),
]


@pytest.mark.parametrize("semiring, samples, equal", LAW_CASES, ids=lambda c: getattr(c, "name", ""))
def test_laws_hold(semiring, samples, equal):
    check_laws(semiring, samples, equal=equal)


class TestCheckLaws:
    def test_a_placeholder_zero_is_caught(self):
        with pytest.raises(SemiringLawError, match="zero is not the identity of ⊕: a = -3"):
            check_laws(Semiring("max-plus, zero 0", 0, 0, max, operator.add), [2, -3])

    def test_a_false_commutative_flag_is_caught(self):
        liar = Semiring("words", WORDS.zero, WORDS.one, WORDS.plus, WORDS.times, commutative=True)
        with pytest.raises(SemiringLawError, match="⊗ is not commutative"):
            check_laws(liar, [frozenset({"a"}), frozenset({"b"})])

    def test_missing_distributivity_is_caught(self):
        # (+, min) on naturals: every other law holds, but min(a, b + c) != min(a, b) + min(a, c)
        with pytest.raises(SemiringLawError, match=r"plus-min: ⊗ does not distribute over ⊕ \(left\)"):
            check_laws(Semiring("plus-min", 0, math.inf, operator.add, min), [1, 2])

    def test_only_the_commutative_flag_decides_the_commutativity_check(self):
        check_laws(WORDS, [frozenset({"a"}), frozenset({"b"})])


class TestAsSemiring:
    @pytest.mark.parametrize("name", ["counting", "COUNTING", "Max_Times", "min-plus", "symbolic"])
    def test_names(self, name):
        assert as_semiring(name) is SEMIRINGS[name.lower().replace("_", "-")]

    def test_a_semiring_is_returned_as_is(self):
        assert as_semiring(WORDS) is WORDS

    def test_unknown_names_list_the_known_ones(self):
        with pytest.raises(UnknownSemiringError, match="unknown semiring 'tropical'.*counting.*max-times"):
            as_semiring("tropical")


# --- every semiring against the definition, on random small DAGs -----------------------------


@st.composite
def dags(draw, max_nodes=6):
    """A random MultiDiGraph: edges i<j (parallel edges allowed), small integer labels, shuffled ids."""
    n = draw(st.integers(1, max_nodes))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1])
    edges = draw(st.lists(pairs, max_size=2 * n + 2)) if n > 1 else []
    labels = draw(st.lists(st.integers(-3, 3), min_size=len(edges), max_size=len(edges)))
    costs = draw(st.lists(st.integers(0, 5), min_size=len(edges), max_size=len(edges)))
    ids = draw(st.permutations(range(10, 10 + n)))  # creation order need not be topological
    G = nx.MultiDiGraph()
    G.add_nodes_from(ids[::-1])
    for k, ((i, j), label, cost) in enumerate(zip(edges, labels, costs)):
        u, v = ids[i], ids[j]
        G.add_edge(
            u, v, key=k, partial=float(label), weight=cost, letter=f"{u}{v}.", symbolic=sympy.Symbol(f"e{k}") * label
        )
    return G


def oracle(G, s, t, semiring):
    """⊕ over nx.all_simple_edge_paths of the ⊗-product of the semiring's default edge weights."""
    total = semiring.zero
    for path in nx.all_simple_edge_paths(G, s, t):
        product = semiring.one
        for u, v, k in path:
            product = semiring.times(product, default_weight(semiring, u, v, G.edges[u, v, k]))
        total = semiring.plus(total, product)
    return total


def default_weight(semiring, u, v, data):
    w = semiring.weight
    return w(u, v, data) if callable(w) else data[w]


SWEPT = [
    (REAL, operator.eq),
    (BOOLEAN, operator.eq),
    (COUNTING, operator.eq),
    (MAX_TIMES, operator.eq),
    (MIN_PLUS, operator.eq),
    (MAX_PLUS, operator.eq),
    (SYMBOLIC, symbolic_equal),
    (WORDS, operator.eq),
]


@settings(max_examples=40, deadline=None)
@given(dags())
def test_forward_sweeps_equal_the_path_sums(G):
    for semiring, equal in SWEPT:
        for s in G:
            value = solve(G, s, semiring=semiring)
            for t in G:
                expected = oracle(G, s, t, semiring)
                assert equal(value.get(t, semiring.zero), expected), (semiring, s, t)


@settings(max_examples=40, deadline=None)
@given(dags())
def test_backward_sweeps_equal_the_path_sums(G):
    for semiring, equal in SWEPT:
        for t in G:
            value = solve(G, t, direction="backward", semiring=semiring)
            for s in G:
                expected = oracle(G, s, t, semiring)
                assert equal(value.get(s, semiring.zero), expected), (semiring, s, t)


@settings(max_examples=30, deadline=None)
@given(dags())
def test_semirings_answer_their_questions(G):
    """Each answer checked against networkx's own algorithm for the same question."""
    for s in G:
        for t in G:
            edge_paths = list(nx.all_simple_edge_paths(G, s, t))
            assert solve(G, s, semiring=COUNTING).get(t, 0) == len(edge_paths)
            assert solve(G, s, semiring=BOOLEAN).get(t, False) == nx.has_path(G, s, t)
            shortest = nx.shortest_path_length(G, s, t, weight="weight") if nx.has_path(G, s, t) else math.inf
            assert solve(G, s, semiring=MIN_PLUS).get(t, math.inf) == shortest


# --- the default-weight hook --------------------------------------------------------------------


class TestDefaultWeights:
    def test_counting_and_boolean_work_on_a_bare_graph(self):
        G = nx.MultiDiGraph([("s", "a"), ("s", "a"), ("a", "t"), ("s", "t")])
        assert solve(G, "s", semiring=COUNTING)["t"] == 3
        assert solve(G, "t", direction="backward", semiring=BOOLEAN) == {"t": True, "a": True, "s": True}

    def test_real_still_reads_partial(self):
        G = nx.MultiDiGraph([("s", "t", {"partial": 2.5})])
        assert solve(G, "s")["t"] == 2.5
        with pytest.raises(MissingWeightError, match="'partial'"):
            solve(nx.MultiDiGraph([("s", "t")]), "s")

    def test_min_plus_defaults_to_one_per_edge_and_a_given_weight_wins(self):
        G = nx.MultiDiGraph([("s", "a", {"cost": 1}), ("a", "t", {"cost": 1}), ("s", "t", {"cost": 5})])
        assert solve(G, "s", semiring=MIN_PLUS)["t"] == 1.0
        assert solve(G, "s", semiring=MIN_PLUS, weight="cost")["t"] == 2.0
        assert solve(G, "s", semiring=MAX_PLUS, weight="cost")["t"] == 5.0

    def test_max_times_skips_zero_edges_and_reports_no_path(self):
        G = nx.MultiDiGraph([("s", "t", {"partial": 0.0})])
        assert solve(G, "s", semiring=MAX_TIMES)["t"] == MAX_TIMES.zero

    def test_influence_reads_another_attribute(self):
        G = nx.MultiDiGraph([("s", "t", {"partial": 1.0, "g": -4.0})])
        assert solve(G, "s", semiring=MAX_TIMES, weight=influence("g"))["t"] == Scored(4.0, (("s", "t", -4.0),))
        with pytest.raises(MissingWeightError, match="'nope'"):
            solve(G, "s", semiring=MAX_TIMES, weight=influence("nope"))


class TestEdgePath:
    EDGES = [(0, 1, 1.0), (1, 2, -2.0), (2, 3, 0.5), (3, 4, 4.0), (4, 5, 1.0)]

    def test_concatenation_in_any_shape_is_the_tuple(self):
        left_deep, right_deep = EdgePath(), EdgePath()
        for edge in self.EDGES:
            left_deep = left_deep + EdgePath([edge])
        for edge in reversed(self.EDGES):
            right_deep = EdgePath([edge]) + right_deep
        for path in (left_deep, right_deep, EdgePath(self.EDGES), EdgePath(self.EDGES[:2]) + EdgePath(self.EDGES[2:])):
            assert tuple(path) == tuple(self.EDGES) and len(path) == 5
            assert path == left_deep and hash(path) == hash(tuple(self.EDGES))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=6), st.data())
    def test_order_is_the_tuple_order(self, edges, data):
        other = data.draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=6))
        shared = data.draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=3))
        common = EdgePath(shared)
        for a, b in ((EdgePath(edges), EdgePath(other)), (common + EdgePath(edges), common + EdgePath(other))):
            ta, tb = tuple(a), tuple(b)
            assert (a < b, a <= b, a == b) == (ta < tb, ta <= tb, ta == tb)
        pairs = [
            (EdgePath(edges) + common, EdgePath(other) + common),  # a shared end (backward sweeps)
            (
                (common + EdgePath(edges[:1])) + EdgePath(edges[1:]),
                (common + EdgePath(other[:2])) + EdgePath(other[2:]),
            ),
            (common + (EdgePath(edges) + common), (common + EdgePath(other)) + common),
        ]
        for a, b in pairs:
            assert (a < b, a <= b, a == b) == (tuple(a) < tuple(b), tuple(a) <= tuple(b), tuple(a) == tuple(b))

    def test_deep_paths_stay_cheap(self):
        def chain(x):
            for _ in range(5000):
                x = sin(x) * 1.0001
            return x

        tr = trace(chain, 0.1)
        for direction, start in (("forward", "x"), ("backward", tr.output)):
            best = solve(tr, start, direction=direction, semiring=MAX_TIMES)
            assert len(best[tr.output if direction == "forward" else 0].edges) == 10_000


class TestOnTheLectureGraph:
    """h(x, y) = (x + 4y)·((x + y)·y) at (3, 5): node 6 is h, node 2 is 4y."""

    @pytest.fixture
    def tr(self):
        def h(x, y):
            return (x + 4 * y) * ((x + y) * y)

        return trace(h, x=3.0, y=5.0)

    def test_counting_gives_the_number_of_terms(self, tr):
        assert solve(tr, "x", semiring=COUNTING)[6] == 2
        assert solve(tr, "h", direction="backward", semiring=COUNTING) == {6: 1, 3: 1, 5: 1, 2: 1, 4: 1, 0: 2, 1: 3}

    def test_max_times_finds_the_largest_term_both_ways(self, tr):
        forward = solve(tr, "y", semiring=MAX_TIMES)[6]
        backward = solve(tr, "h", direction="backward", semiring=MAX_TIMES)[1]
        assert forward == backward == Scored(184.0, ((1, 5, 8.0), (5, 6, 23.0)))

    def test_max_times_ties_go_to_the_first_edge_tuple(self):
        tr = trace(lambda x: x * x, 1.0)  # two parallel edges, both labeled 1
        best = solve(tr, "x", semiring=MAX_TIMES)[1]
        assert best == Scored(1.0, ((0, 1, 1.0),))

    def test_boolean_says_what_depends_on_what(self, tr):
        assert set(solve(tr, "x", semiring=BOOLEAN)) == {0, 3, 4, 5, 6}
        assert set(solve(tr, 2, direction="backward", semiring=BOOLEAN)) == {2, 1}
