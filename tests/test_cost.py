"""The cost model: counted semirings and the forward/backward cost of a Jacobian (the lecture's Fig. 5)."""

import networkx as nx
import pytest

import pathad
from pathad.cost import Counted, OpCount, SweepCost, counted, jacobian_cost
from pathad.errors import UnknownSemiringError
from pathad.semirings import COUNTING, MAX_TIMES, REAL, check_laws
from pathad.solver import solve


def relevant_edges(G, start, ends, direction):
    """The oracle: edges on some path between start and ends, in the sweep's direction."""
    ahead = nx.descendants if direction == "forward" else nx.ancestors
    behind = nx.ancestors if direction == "forward" else nx.descendants
    reached = {start} | ahead(G, start)
    useful = set(ends).union(*(behind(G, e) for e in ends))
    inside = reached & useful
    return sum(1 for u, v in G.edges() if u in inside and v in inside)


def net(w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15):
    """The lecture's Fig. 9 circuit: 2 inputs, 3 sigmoid hidden units, 3 sigmoid outputs, squared error."""
    x1, x2, target = 0.5, -1.0, (1.0, 0.0, 0.0)
    h1 = pathad.sigmoid(w10 * x1 + w13 * x2)
    h2 = pathad.sigmoid(w11 * x1 + w14 * x2)
    h3 = pathad.sigmoid(w12 * x1 + w15 * x2)
    y1 = pathad.sigmoid(w1 * h1 + w2 * h2 + w3 * h3)
    y2 = pathad.sigmoid(w4 * h1 + w5 * h2 + w6 * h3)
    y3 = pathad.sigmoid(w7 * h1 + w8 * h2 + w9 * h3)
    return 0.5 * (target[0] - y1) ** 2 + 0.5 * (target[1] - y2) ** 2 + 0.5 * (target[2] - y3) ** 2


def trunk(t):
    """One input, ten outputs sharing a long common computation."""
    u = t
    for _ in range(20):
        u = pathad.sin(u) * t
    return tuple(u * k for k in range(1, 11))


class TestCounted:
    def test_same_answers_and_one_times_per_relevant_edge(self):
        tr = pathad.trace(net, *[0.1 * i for i in range(15)])
        real = counted(REAL)
        assert solve(tr, tr.output, direction="backward", semiring=real) == solve(tr, tr.output, direction="backward")
        assert real.count.times == tr.graph.number_of_edges()
        assert tr.graph.number_of_edges() - tr.graph.number_of_nodes() + 1 <= real.count.plus
        assert real.count.plus <= tr.graph.number_of_edges()

    def test_restricted_sweeps_count_only_their_part(self):
        tr = pathad.trace(net, *[0.1 * i for i in range(15)])
        for ref in ("w1", "w10", "w15"):
            real = counted()
            solve(tr, ref, semiring=real, targets=tr.output)
            assert real.count.times == relevant_edges(tr.graph, tr.node(ref), [tr.output], "forward")

    def test_everything_but_the_operations_is_kept(self):
        best = counted("max_times")
        assert isinstance(best, Counted) and best.name == "counted max-times"
        assert (best.zero, best.one, best.commutative, best.weight) == (
            MAX_TIMES.zero,
            MAX_TIMES.one,
            False,
            MAX_TIMES.weight,
        )
        check_laws(counted(COUNTING), [2, 3])

    def test_each_wrapper_counts_for_itself(self):
        a, b = counted(), counted()
        a.times(2.0, 3.0)
        a.plus(1.0, 1.0)
        assert (a.count, b.count) == (OpCount(times=1, plus=1), OpCount())
        assert a.count.total == 2

    def test_unknown_names(self):
        with pytest.raises(UnknownSemiringError, match="'tropical'"):
            counted("tropical")


class TestJacobianCost:
    def test_many_inputs_one_output_backward_wins(self):
        tr = pathad.trace(net, *[0.1 * i for i in range(15)])
        cost = jacobian_cost(tr)
        assert (cost["forward"].sweeps, cost["backward"].sweeps) == (15, 1)
        assert cost["backward"].times == tr.graph.number_of_edges()
        assert cost["forward"].times > 3 * cost["backward"].times
        assert pathad.jacobian(tr).mode == "backward"

    def test_one_input_many_outputs_forward_wins(self):
        tr = pathad.trace(trunk, 0.3)
        cost = jacobian_cost(tr)
        assert (cost["forward"].sweeps, cost["backward"].sweeps) == (1, 10)
        assert cost["forward"].times == tr.graph.number_of_edges()
        assert cost["backward"].times > 5 * cost["forward"].times
        assert pathad.jacobian(tr).mode == pathad.plan_jacobian(tr).best  # auto counts every method

    def test_counts_are_the_relevant_edges_of_each_sweep(self):
        tr = pathad.trace(lambda a, b, c: (a * b, b * c + a, pathad.sin(c)), 1.0, 2.0, 3.0)
        cost = jacobian_cost(tr)
        columns, rows = list(tr.inputs.values()), tr.outputs
        assert cost["forward"] == SweepCost(
            "forward",
            3,
            sum(relevant_edges(tr.graph, c, rows, "forward") for c in columns),
            cost["forward"].plus,
        )
        assert cost["backward"].times == sum(relevant_edges(tr.graph, r, columns, "backward") for r in rows)

    def test_a_chosen_block(self):
        tr = pathad.trace(trunk, 0.3)
        cost = jacobian_cost(tr, wrt=["t"], of=tr.outputs[:2])
        assert (cost["forward"].sweeps, cost["backward"].sweeps) == (1, 2)
        assert cost["backward"].total == cost["backward"].times + cost["backward"].plus
