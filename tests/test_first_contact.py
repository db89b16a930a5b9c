"""Issue 17, "a library people trust on first contact": what one function returns the next accepts,
results name nodes as a reader does, errors say what was expected and what happened."""

import re

import networkx as nx
import pytest

import pathad
from pathad import Dual
from pathad.tracing import described


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


@pytest.fixture
def tr():
    return pathad.trace(h, x=3.0, y=5.0)


def red_nodes(source):
    return source.count("penwidth=2 ")


# --- 1. what one function returns, the next accepts ------------------------------------------------


class TestResultsFeedOn:
    def test_draw_highlights_a_path_from_best_path(self, tr):
        best = pathad.best_path(tr, "y", "h")
        source = pathad.draw(tr, highlight=best).source
        assert source == pathad.draw(tr, highlight=list(best.nodes)).source
        assert "#cf222e" in source  # red

    def test_draw_highlights_the_paths_from_paths(self, tr):
        found = list(pathad.paths(tr, "x", "h"))
        assert pathad.draw(tr, highlight=found).source == pathad.draw(tr, highlight=[p.nodes for p in found]).source
        assert pathad.draw(tr, highlight=pathad.paths(tr, "x", "h")).source == pathad.draw(tr, highlight=found).source

    def test_draw_highlights_a_list_of_edges(self, tr):
        by_edges = pathad.draw(tr, highlight=[(1, 5), (5, 6)]).source
        assert by_edges == pathad.draw(tr, highlight=[[1, 5, 6]]).source

    def test_draw_takes_a_compiled_sweep(self, tr):
        tape = pathad.compile(tr)
        assert pathad.draw(tr, sweep=tape.solve("x")).source == pathad.draw(tr, sweep=pathad.solve(tr, "x")).source

    def test_draw_takes_a_max_times_sweep_and_a_best_path(self, tr):
        pathad.draw(tr, sweep=pathad.solve(tr, "x", semiring="max-times"))  # Scored values: their scores shown
        source = pathad.draw(tr, highlight=pathad.compile(tr).solve("y", semiring="max-times").path("h")).source
        assert source == pathad.draw(tr, highlight=pathad.best_path(tr, "y", "h")).source

    def test_between_takes_a_path(self, tr):
        best = pathad.best_path(tr, "y", "h")
        assert pathad.draw(tr, between=best).source == pathad.draw(tr, between=("y", "h")).source

    def test_a_highlight_that_is_no_path_says_what_it_takes(self, tr):
        with pytest.raises(TypeError, match="highlight must be"):
            pathad.draw(tr, highlight=3.5)


# --- 2. results name nodes as the reader does --------------------------------------------------------


class TestReadableResults:
    def test_a_path_prints_with_labels_and_formulas(self, tr):
        first, second = pathad.paths(tr, "x", "h")
        assert str(first) == "x → x+4y → h: 1·40 = 40"
        assert str(second) == "x → x+y → (x+y)·y → h: 1·5·23 = 115"
        assert first.nodes == (0, 3, 6)  # the data stays node ids
        assert second.labels == ("x", "x+y", "(x+y)·y", "h")

    def test_best_path_prints_with_labels(self, tr):
        assert str(pathad.best_path(tr, "y", "h")) == "y → (x+y)·y → h: 8·23 = 184"

    def test_named_nodes_print_by_name(self):
        def f(x):
            return pathad.exp(x * 2.0).named("e") + 1.0

        tr = pathad.trace(f, 1.0)
        (path,) = pathad.paths(tr, "x", "f")
        assert str(path) == "x → 2x → e → f: 2·7.38906·1 = 14.7781"

    def test_a_path_of_a_plain_graph_prints_its_nodes(self):
        G = nx.DiGraph([("s", "a", {"partial": 2.0}), ("a", "t", {"partial": 3.0})])
        (path,) = pathad.paths(G, "s", "t")
        assert str(path) == "s → a → t: 2·3 = 6"
        assert str(pathad.Path(("s",), ())) == "s: 1"

    def test_solve_labels_its_result_for_a_reader(self, tr):
        values = pathad.solve(tr, "x")
        assert values == {0: 1.0, 3: 1.0, 4: 1.0, 5: 5.0, 6: 155.0}  # ids for programs, as before
        assert pathad.solve(tr, "x", labels=True) == {"x": 1.0, "x+4y": 1.0, "x+y": 1.0, "(x+y)·y": 5.0, "h": 155.0}

    def test_solve_labels_max_times_paths(self, tr):
        best = pathad.solve(tr, "x", semiring="max-times", labels=True)["h"]
        assert best.score == 115.0
        assert tuple(best.edges) == (("x", "x+y", 1.0), ("x+y", "(x+y)·y", 5.0), ("(x+y)·y", "h", 23.0))

    def test_solve_labels_apart_the_nodes_that_read_alike(self):
        tr = pathad.trace(lambda x: (x * x) + (x * x), 2.0)
        assert list(pathad.solve(tr, "x", labels=True)) == ["x", "x·x (v1)", "x·x (v2)", "<lambda>"]

    def test_solve_labels_must_be_a_bool(self, tr):
        with pytest.raises(TypeError, match="labels must be True or False"):
            pathad.solve(tr, "x", labels="yes")


# --- 3. an unknown node: the message lists what is known ---------------------------------------------


class TestUnknownNodes:
    def test_the_message_lists_inputs_outputs_and_labels(self):
        def f(x, y):
            return (x * y).named("p") + 1.0

        tr = pathad.trace(f, 2.0, 3.0)
        with pytest.raises(pathad.UnknownNodeError) as caught:
            pathad.gradient(tr, of="q")
        message = str(caught.value)
        assert "'x', 'y'" in message and "outputs are ['f']" in message and "labels are ['p']" in message

    def test_the_message_lists_the_outputs_of_a_multi_output_trace(self):
        tr = pathad.trace(lambda x: (x * 2.0, x + 1.0), 1.0)
        with pytest.raises(pathad.UnknownNodeError, match=r"outputs are \['<lambda>\[0\]', '<lambda>\[1\]'\]"):
            pathad.derivative(tr, "x", of="nope")

    def test_the_message_of_a_plain_graph_lists_nodes(self):
        G = nx.DiGraph([("s", "t", {"partial": 1.0})])
        with pytest.raises(pathad.UnknownNodeError, match=r"the nodes are \['s', 't'\]"):
            pathad.solve(G, "u")


# --- 5. wrong objects: a TypeError saying what was expected and what was given -----------------------


WRONG = [42, None, "h", nx.DiGraph([(0, 1)])]
TRACE_FUNCTIONS = {
    "gradient": lambda obj: pathad.gradient(obj),
    "derivative": lambda obj: pathad.derivative(obj, "x"),
    "jacobian": lambda obj: pathad.jacobian(obj),
    "derivatives_from": lambda obj: pathad.derivatives_from(obj, "x"),
}
GRAPH_FUNCTIONS = {
    "solve": lambda obj: pathad.solve(obj, "x"),
    "paths": lambda obj: pathad.paths(obj, "x", "h"),
    "explain": lambda obj: pathad.explain(obj, "x", "h"),
    "count_paths": lambda obj: pathad.count_paths(obj, "x", "h"),
    "best_path": lambda obj: pathad.best_path(obj, "x", "h"),
    "path_sum": lambda obj: pathad.path_sum(obj, "x", "h"),
    "draw": lambda obj: pathad.draw(obj),
    "sparsity": lambda obj: pathad.sparsity(obj),
    "active_nodes": lambda obj: pathad.active_nodes(obj),
}


class TestWrongObjects:
    @pytest.mark.parametrize("name", TRACE_FUNCTIONS)
    @pytest.mark.parametrize("obj", WRONG, ids=["int", "None", "str", "networkx"])
    def test_functions_of_a_trace(self, name, obj):
        with pytest.raises(TypeError, match=rf"{name} needs a pathad.Trace .*got {re.escape(described(obj))}$"):
            TRACE_FUNCTIONS[name](obj)

    @pytest.mark.parametrize("name", GRAPH_FUNCTIONS)
    @pytest.mark.parametrize("obj", WRONG[:3], ids=["int", "None", "str"])
    def test_functions_of_a_trace_or_graph(self, name, obj):
        expected = rf"{name} needs a pathad.Trace or a networkx .*got {re.escape(described(obj))}$"
        with pytest.raises(TypeError, match=expected):
            GRAPH_FUNCTIONS[name](obj)

    @pytest.mark.parametrize("name", ["sparsity", "active_nodes"])
    def test_a_graph_has_no_inputs_to_default_to(self, name):
        G = nx.DiGraph([(0, 1, {"partial": 2.0})])
        with pytest.raises(TypeError, match=rf"{name} without wrt= needs a pathad.Trace .*networkx.DiGraph$"):
            GRAPH_FUNCTIONS[name](G)
        assert getattr(pathad, name)(G, wrt=[0], of=[1]) is not None

    @pytest.mark.parametrize("ref", [True, False, [0]])
    def test_a_bool_or_float_is_not_a_node(self, tr, ref):
        with pytest.raises(TypeError, match=r"of must be a node: an input name, a label or a node id"):
            pathad.gradient(tr, of=ref)

    def test_a_bool_wrt_is_not_a_node(self, tr):
        with pytest.raises(TypeError, match="wrt must be a node"):
            pathad.derivative(tr, True)
        with pytest.raises(TypeError, match="wrt must be"):
            pathad.gradient(tr, wrt=[True])
        with pytest.raises(TypeError, match="start must be"):
            pathad.solve(tr, True)


# --- 6. messages say what happened ------------------------------------------------------------------


class TestOverflowMessages:
    def test_exp_overflow_says_overflow(self):
        with pytest.raises(pathad.DomainError, match=r"exp at node v1 with operand x = 1000.0: the result overflows"):
            pathad.trace(pathad.exp, 1000.0)

    def test_pow_overflow_has_no_errno_tuple(self):
        with pytest.raises(pathad.DomainError) as caught:
            pathad.trace(lambda x: x**387420489, 9.0)
        assert "34" not in str(caught.value) and "the result overflows" in str(caught.value)

    def test_a_derivative_that_overflows_says_so(self):
        with pytest.raises(pathad.DomainError, match="the derivative in operand 1 overflows"):
            pathad.trace(lambda y: 10.0**y, 308.2)

    def test_dual_overflow_says_overflow(self):
        with pytest.raises(pathad.DomainError, match="exp with operand Dual.*: the result overflows"):
            pathad.exp(Dual(1000.0, 1.0))
        with pytest.raises(pathad.DomainError) as caught:
            Dual(9.0, 1.0) ** 387420489
        assert "34" not in str(caught.value) and "overflows" in str(caught.value)


# --- 7. dual numbers compare as traced numbers do ---------------------------------------------------


class TestDualLikeTraced:
    def test_truth_is_the_value(self):
        assert not Dual(0.0, 0.0) and not Dual(0.0, 1.0) and Dual(2.0, 0.0)
        traced = []
        pathad.trace(lambda x: traced.append(bool(x - x)) or x, 1.0)
        assert traced == [bool(Dual(1.0, 1.0) - Dual(1.0, 1.0))] == [False]

    def test_equality_is_of_values(self):
        assert Dual(3.0, 1.0) == 3 and Dual(3.0, 1.0) == Dual(3.0, 2.0) and Dual(3.0, 1.0) != Dual(4.0, 1.0)
        assert (Dual(1.0) == "1") is False

    def test_not_hashable_as_traced_values_are_not(self):
        with pytest.raises(TypeError):
            hash(Dual(1.0))

    def test_the_same_branches_as_the_trace(self):
        def f(x):
            return x * x if x == 2 else -x

        assert pathad.dual.derivative(f, 2.0) == pathad.derivative(pathad.trace(f, 2.0), "x") == 4.0

    def test_asking_for_a_plain_number_is_the_traced_error(self):
        for ask in (float, int, complex, lambda d: [1, 2, 3][d]):
            with pytest.raises(pathad.LostDerivativeError, match="would drop its derivative"):
                ask(Dual(2.0, 1.0))


class TestMoreResultsFeedOn:
    def test_draw_highlights_a_set_of_active_nodes(self, tr):
        active = pathad.active_nodes(tr, wrt=["x"])
        source = pathad.draw(tr, highlight=active).source
        assert source.count('color="#cf222e" id=e') == 5  # x→x+4y→h and x→x+y→(x+y)·y→h, not y's edges
        assert "n1 -> n5" in source and "n1 -> n5 [label=<\N{NO-BREAK SPACE}8> id=e1_5_0]" in source

    def test_solve_takes_a_compiled_sweep_as_its_start_values(self, tr):
        seeded = pathad.solve(tr, pathad.compile(tr).solve("x", targets="x"))
        assert seeded == pathad.solve(tr, "x")


# --- 4. drawings: what a node computes, its constants, labels clear of each other ------------------


def box_names(source):
    """The first line of every node's box, in the graph's order."""
    return re.findall(r"^\tn\d+ \[label=<(.*?)(?:<BR/>|> )", source, re.M)


class TestDrawingsSayWhatNodesCompute:
    def test_a_constant_operand_is_part_of_the_label(self):
        tr = pathad.trace(lambda x: 1.0 / (x * 2.0 + 3.0) - pathad.maximum(x, 0.0) + (x - 3), 2.0)
        names = box_names(pathad.draw(tr).source)
        assert names[1:4] == ["× 2", "+ 3", "1 /"] and "max(·, 0)" in names and "− 3" in names
        assert pathad.draw(pathad.trace(lambda x: x + -3.0, 1.0)).source.count("+ (−3)") == 1

    def test_the_output_shows_its_operation(self, tr):
        assert box_names(pathad.draw(tr).source)[-1] == "h = ×"
        assert box_names(pathad.draw(tr, symbolic=True).source)[-1] == "h = (x+4y)·(x+y)·y"
        assert box_names(pathad.draw(pathad.trace(lambda x: x + 3.0, 1.0)).source)[-1] == "&lt;lambda&gt; = + 3"

    def test_named_values_show_their_operation_but_keep_their_names_elsewhere(self):
        def f(x):
            return pathad.exp(x).named("e") * 2.0

        tr = pathad.trace(f, 1.0)
        assert box_names(pathad.draw(tr).source)[1:] == ["e = exp", "f = × 2"]
        assert list(pathad.draw.__globals__["View"](tr).names().values()) == ["x", "e", "f"]  # animate's names
        assert box_names(pathad.draw(tr, names="label").source) == ["x", "e", "f"]

    def test_head_labels_go_to_the_outer_side_of_their_heads_in_edges(self, tr):
        for rankdir, first in (("BT", "25"), ("LR", "-25"), ("TB", "-25"), ("RL", "25")):
            source = pathad.draw(tr, label_place="head", rankdir=rankdir).source
            edges = re.findall(r"(n\d+) -> n6 \[headlabel=.*?labelangle=(-?\d+)", source)
            assert len(edges) == 2 and edges[0][1] != edges[1][1], rankdir
            assert edges[0][1].lstrip("-") == "35" and (edges[0][1] == "35") == (first == "25"), rankdir


def test_the_elimination_planning_and_symbolic_functions_name_what_they_need():
    """Siblings of gradient(42): each says what it takes and what it got (no AttributeError)."""
    import networkx as nx

    cases = [(pathad.plan_jacobian, (42,)), (pathad.jacobian_cost, (None,)), (pathad.fold_linear, ("x",)),
             (pathad.eliminate, (None, [])), (pathad.eliminated_jacobian, (1, [], []))]  # fmt: skip
    for function, args in cases:
        with pytest.raises(TypeError, match=f"{function.__name__} needs a pathad.Trace"):
            function(*args)
    with pytest.raises(TypeError, match="needs wrt= and of="):
        pathad.plan_jacobian(nx.MultiDiGraph([("a", "b", {"partial": 2.0})]))
