"""The pictures of issue 13: an elimination drawn step by step (fill-in marked), and a colouring on its pattern.

Every check here recomputes what a picture should show without pathad's elimination or colouring code (a
plain networkx graph eliminated by hand, a pattern compressed by hand) and reads what the picture does show
from its DOT source, its svg or its matplotlib images.
"""

import re

import networkx as nx
import numpy as np
import pytest
from test_flat_adjacency import traced

import pathad
from pathad.animate import FILL_IN_STYLE, INCREASED_STYLE, draw_elimination
from pathad.coloring import Coloring, color, compress, plot_coloring
from pathad.draw import edge_id
from pathad.figures import FIGURES, WAIST_STEPS, banded, make_figures, waist, waist_frames


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def waist_trace():
    return pathad.trace(waist, 0.1, 0.2, 0.3)


def by_hand(graph, columns, rows, order):
    """Eliminate ``order`` on a plain DiGraph of ``graph``'s part between columns and rows (parallel edges
    summed into one, a row read by other nodes given a sink ("row", r) behind it): per step the pairs p→s
    created and the pairs p→s that were there and got a product; and the DiGraph left."""
    below = set(columns).union(*(nx.descendants(graph, c) for c in columns))
    above = set(rows).union(*(nx.ancestors(graph, r) for r in rows))
    G = nx.DiGraph()
    G.add_nodes_from(below & above)
    for u, v, w in graph.edges(data="partial"):
        if u in G and v in G:
            G.add_edge(u, v, w=G[u][v]["w"] + w if G.has_edge(u, v) else w)
    for r in rows:
        if r in G and G.out_degree(r):
            G.add_edge(r, ("row", r), w=1.0)
    steps = []
    for v in order:
        created, grown = set(), set()
        for p in list(G.predecessors(v)):
            for s in list(G.successors(v)):
                if G.has_edge(p, s):
                    (created if (p, s) in created else grown).add((p, s))
                    G[p][s]["w"] += G[p][v]["w"] * G[v][s]["w"]
                else:
                    created.add((p, s))
                    G.add_edge(p, s, w=G[p][v]["w"] * G[v][s]["w"])
        G.remove_node(v)
        steps.append((created, grown))
    return steps, G


def pairs(edges):
    return {(p, s) for p, s, _ in edges}


def marked_ids(drawing, style):
    """The DOT ids of the edges drawn in ``style``'s colour."""
    colour = style["color"]
    return set(re.findall(rf'\[[^]]*color="{colour}"[^]]*\bid=(e\d+_\d+_\d+)', drawing.source))


def ids(graph, edges):
    position = {n: i for i, n in enumerate(graph)}
    return {edge_id(position[p], position[s], list(graph[p][s]).index(key)) for p, s, key in edges}


CASES = {
    "waist, markowitz": (waist_trace, "markowitz", False),
    "h, forward": (lambda: pathad.trace(h, 3.0, 5.0), "forward", True),
    "h, reverse": (lambda: pathad.trace(h, 3.0, 5.0), "reverse", True),
    **{f"random {seed}": (lambda seed=seed: traced(seed), "markowitz", False) for seed in range(4)},
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.filterwarnings("ignore:program\\[3\\] does not depend")
def test_the_fill_in_of_each_frame_is_the_elimination_by_hand(case):
    make, order, fold = CASES[case]
    tr = make()
    frames = draw_elimination(tr, order, fold=fold)
    graph = pathad.fold_linear(tr) if fold else tr.graph
    columns, rows = list(tr.inputs.values()), list(dict.fromkeys(tr.outputs))
    eliminated = [f.node for f in frames[1:]]
    steps, left = by_hand(graph, columns, rows, eliminated)
    assert len(frames) == len(eliminated) + 1 and frames[0].node is None
    assert not frames[0].new and not frames[0].increased
    for frame, (created, grown) in zip(frames[1:], steps):
        assert pairs(frame.new) == created
        assert pairs(frame.increased) == grown
        assert frame.node not in frame.graph
        # the picture marks these edges and no others (one edge of a parallel pair alone)
        assert marked_ids(frame.drawing, FILL_IN_STYLE) == ids(frame.graph, frame.new)
        assert marked_ids(frame.drawing, INCREASED_STYLE) == ids(frame.graph, frame.increased)
    final = frames[-1].graph
    drawn = {(u, v): sum(d["partial"] for d in final.get_edge_data(u, v).values()) for u, v in final.edges()}
    assert drawn == pytest.approx({(u, v): w for u, v, w in left.edges(data="w")}, rel=1e-12)


def test_the_waist_goes_in_markowitz_order_for_17_multiplications_and_3_additions():
    tr = waist_trace()
    frames = draw_elimination(tr, "markowitz")
    sines = [n for n in tr.graph if tr.graph.nodes[n]["op"] == "sin"]
    first_sum = next(n for n in tr.graph if tr.graph.nodes[n]["op"] == "add")
    assert [f.node for f in frames[1:]] == [*sines, first_sum, tr.node("w")]
    for before, frame in zip(frames, frames[1:]):  # each step the cheapest node left, ties to the earlier
        inner = [n for n in before.graph if before.graph.in_degree(n) and before.graph.out_degree(n)]
        cost = {n: before.graph.in_degree(n) * before.graph.out_degree(n) for n in inner}
        assert frame.node == min(inner, key=lambda n: (cost[n], list(tr.graph).index(n)))
    assert (frames[-1].times, frames[-1].plus) == (17, 3)
    _, counts = pathad.eliminated_jacobian(tr, list(tr.inputs.values()), tr.outputs, "markowitz")
    assert (counts["times"], counts["plus"]) == (17, 3)
    assert "17 multiplications + 3 additions in all" in frames[-1].caption
    assert [len(f.new) for f in frames] == [0, 1, 1, 1, 2, 9]  # w: 3 inputs × 3 outputs
    assert "0.5911 + 0.5911 = 1.182" in frames[-1].drawing.source  # two products on one new edge a → w·w


@pytest.mark.parametrize("n", [3, 5, 12])
def test_the_last_frame_is_exactly_the_jacobian(n):
    for tr in (pathad.trace(banded, x=np.linspace(0.1, 1.2, n)), waist_trace()):
        final = draw_elimination(tr, "markowitz")[-1].graph
        columns, rows = list(tr.inputs.values()), tr.outputs
        J = pathad.jacobian(tr, mode="forward").matrix
        assert set(final) == set(columns) | set(rows)
        nonzeros = {(columns[j], rows[i]) for i, j in zip(*np.nonzero(pathad.sparsity(tr)))}
        assert set(final.edges()) == nonzeros
        for u, v in final.edges():
            value = sum(d["partial"] for d in final.get_edge_data(u, v).values())
            assert value == pytest.approx(J[rows.index(v), columns.index(u)], rel=1e-14)


def test_animate_elimination_marks_one_edge_of_a_parallel_pair():
    """After x+y goes (not merged), y → (x+y)·y has two edges: the new one is red, the one that was there not."""
    movie = pathad.animate_elimination(pathad.trace(h, 3.0, 5.0), fold=True)
    k = next(k for k, s in enumerate(movie.steps) if s["node"] == 4 and s["changes"])
    after = movie.graphs[k // 2]
    assert len(after[1][5]) == 2  # the parallel pair y → (x+y)·y
    edge = r'<g id="(e\d+_\d+_\d+)" class="edge">\s*<title>[^<]*</title>\s*<path[^>]*stroke="#cf222e"'
    red = set(re.findall(edge, movie.steps[k]["svg"].decode()))
    assert red == ids(after, [c[:3] for c in movie.steps[k]["changes"]])
    assert len(red) == 2


def hand_compressed(pattern, groups):
    """(class numbers of the compressed pattern, {(class, row): the column it holds, as text})."""
    expected = np.zeros((pattern.shape[0], len(groups)), dtype=int)
    holds = {}
    for c, group in enumerate(groups):
        for i in range(pattern.shape[0]):
            there = [j for j in group if pattern[i, j]]
            assert len(there) <= 1  # a valid colouring
            if there:
                expected[i, c] = c + 1
                holds[c, i] = str(there[0])
    return expected, holds


@pytest.mark.parametrize("n", [4, 12])
def test_the_colouring_picture_shows_the_pattern_compressed_by_hand(n):
    tr = pathad.trace(banded, x=np.linspace(0.1, 1.2, n))
    pattern = pathad.sparsity(tr)
    coloring = color(pattern)
    fig = plot_coloring(pattern, coloring)
    left, right = (ax.images[0].get_array() for ax in fig.axes[:2])
    klass = {j: c for c, group in enumerate(coloring.groups) for j in group}
    np.testing.assert_array_equal(left, [[klass[j] + 1 if pattern[i, j] else 0 for j in range(n)] for i in range(n)])
    expected, holds = hand_compressed(pattern, coloring.groups)
    np.testing.assert_array_equal(right, expected)
    texts = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in fig.axes[1].texts}
    assert texts == holds
    assert coloring.count == 3 and coloring.lower_bound == 3
    assert f"{n} columns in 3 colours, lower bound 3" in fig.get_suptitle()
    held = compress(pattern, coloring)
    assert {(c, i): str(j) for (i, c), j in np.ndenumerate(held) if j >= 0} == holds


def test_the_colouring_picture_of_rows_and_of_a_wrong_colouring():
    pattern = np.array([[1, 1, 1, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=bool)
    rows = color(pattern, axis="rows")
    fig = plot_coloring(pattern, rows)
    expected, _ = hand_compressed(pattern.T, rows.groups)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), expected.T)
    assert "4 rows in 2 colours" in fig.get_suptitle() and "backward sweeps" in fig.get_suptitle()
    wrong = Coloring([[0, 1, 2, 3]], "by hand", 4, "columns")
    with pytest.raises(ValueError, match="share row 0"):
        plot_coloring(pattern, wrong)


def test_the_registered_figures_render(tmp_path):
    names = [f"waist{k}" for k in range(WAIST_STEPS + 1)] + ["coloring_banded"]
    assert set(names) <= set(FIGURES) and f"waist{WAIST_STEPS + 1}" not in FIGURES
    assert len(waist_frames()) == WAIST_STEPS + 1
    written = make_figures(tmp_path, names=names, formats=("svg",))
    assert [p.name for p in written] == [f"{name}.svg" for name in names]
    for path in written:
        assert "<svg" in path.read_text() and path.stat().st_size > 2000
    svg = (tmp_path / f"waist{WAIST_STEPS}.svg").read_text()
    last = " ".join(re.findall(r">([^<]*)</text>", svg))  # the caption's lines, one text element each
    assert "17 multiplications + 3 additions" in last and "forward sweeps (20 + 3)" in last
    assert "backward sweeps (25 + 1)" in last
