"""pathad.animate: a sweep recorded step by step from the solver, and the page that plays it.

The oracles: the lecture's numbers for h (∂h/∂x = 155, ∂h/∂y = 459, two paths
from x), brute-force path enumeration, and central differences; in the browser
the numbers the page shows are compared with pathad.solve's.
"""

import json
import math
import os
import re
from pathlib import Path

import networkx as nx
import pytest

import pathad
from pathad import DrawingTooLargeError
from pathad.cli import main
from pathad.draw import format_number
from pathad.pages import find_chromium

H = "(x + 4*y) * ((x + y) * y)"


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


@pytest.fixture
def tr():
    return pathad.trace(h, x=3.0, y=5.0)


def replayed(movie):
    """The path values after every step, replayed from the steps alone (seeds get the semiring's one)."""
    value = dict.fromkeys(movie.seeds, movie.semiring.one)
    for step in movie.steps[1:]:
        assert step.tail in value, f"{step.text}: the tail has no path value yet"
        value[step.head] = step.total
    return value


def brute_force(graph, source, target):
    """Σ over every path source → target of the product of its partials, parallel edges as separate paths."""
    total = 0.0
    for path in nx.all_simple_edge_paths(graph, source, target):
        total += math.prod(graph.edges[e]["partial"] for e in path)
    return total


@pytest.mark.parametrize("fold", [False, True])
def test_forward_steps_end_at_the_lecture_numbers(tr, fold):
    movie = pathad.animate(tr, "x", fold=fold)
    assert movie.answer == "∂h/∂x = 155"
    value = replayed(movie)
    assert value == movie.result == pathad.solve(movie.graph, 0)
    assert value[tr.output] == brute_force(movie.graph, 0, tr.output) == 155.0
    assert len(movie.steps) == 1 + sum(1 for _ in nx.edge_dfs(movie.graph, 0))  # one step per edge reached


@pytest.mark.parametrize("fold", [False, True])
def test_backward_steps_give_every_partial(tr, fold):
    movie = pathad.animate(tr, direction="backward", fold=fold)
    assert movie.answer == "∂h/∂x = 155, ∂h/∂y = 459"
    value = replayed(movie)
    assert (value[0], value[1]) == (155.0, 459.0)
    for node in movie.graph:  # every adjoint is the sum over the paths from the node to h
        expected = 1.0 if node == tr.output else brute_force(movie.graph, node, tr.output)
        assert value.get(node, 0.0) == pytest.approx(expected, rel=1e-12)


def test_each_term_is_the_tail_value_times_the_label(tr):
    movie = pathad.animate(tr, direction="backward")
    value = dict.fromkeys(movie.seeds, 1.0)
    for step in movie.steps[1:]:
        graph_edge = (step.head, step.tail)  # backward: the edge's head comes first
        labels = [d["partial"] for d in movie.graph.get_edge_data(*graph_edge).values()]
        assert step.weight == labels[step.parallel]
        assert step.value == value[step.tail] and step.term == step.value * step.weight
        value[step.head] = value.get(step.head, 0.0) + step.term
        assert step.total == value[step.head]


def test_a_node_is_finished_at_its_last_term(tr):
    movie = pathad.animate(tr, direction="backward", fold=True)
    finished_at = {n: k for k, step in enumerate(movie.steps) for n in step.finished}
    assert set(finished_at) == set(movie.result)
    for k, step in enumerate(movie.steps[1:], start=1):
        assert finished_at[step.tail] < k  # a value is passed on only once it is final
        assert finished_at[step.head] >= k


def test_other_semirings(tr):
    counting = pathad.animate(tr, "x", semiring="counting", fold=True)
    assert counting.answer == "h: 2" and replayed(counting)[tr.output] == 2
    boolean = pathad.animate(tr, "y", semiring="boolean")
    assert boolean.answer == "h: true"
    best = pathad.animate(tr, "y", semiring="max-times", fold=True)
    path = pathad.best_path(tr, "y", "h")
    assert best.answer == f"h: {format_number(path.product)}"
    assert best.best == list(zip(path.nodes, path.nodes[1:]))


def test_a_parallel_edge_is_a_step_of_its_own():
    movie = pathad.animate(pathad.trace(lambda x: x * x, 3.0), "x")
    assert [s.parallel for s in movie.steps[1:]] == [0, 1]
    assert movie.answer == "∂<lambda>/∂x = 6"
    ids = re.findall(r'<g id="(e\d+_\d+_\d+)" class="edge"', movie.html())
    assert ids == ["e0_1_0", "e0_1_1"]


def test_the_page_is_self_contained(tr, tmp_path):
    movie = pathad.animate(tr, "x", fold=True)
    path = movie.save(tmp_path / "sweep.html")
    page = Path(path).read_text(encoding="utf-8")
    assert "<svg" in page and "<?xml" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the page must fetch nothing"
    data = json.loads(re.search(r"const DATA = (.*);\n", page).group(1))
    assert [s["text"] for s in data["steps"]] == [s.text for s in movie.steps]
    for step in data["steps"][1:]:
        assert f'id="{step["edge"]}"' in page and f'id="{step["head"]}"' in page
    assert '<iframe srcdoc="' in movie._repr_html_()


def test_bad_input_is_refused_before_any_page_is_written(tr, tmp_path):
    big = pathad.trace(lambda x: sum(pathad.sin(x * k) for k in range(1, 200)), 0.5)
    with pytest.raises(DrawingTooLargeError, match=r"cannot animate.*between=.*fold=True"):
        pathad.animate(big)
    with pytest.raises(TypeError, match="sweep= is an option of pathad.draw only"):
        pathad.animate(tr, sweep={})
    with pytest.raises(ValueError, match="not in the drawing"):
        pathad.animate(tr, "x", targets=2, fold=True)  # 4y is folded away
    assert main(["animate", H, "--at", "x=3", "y=5", "-o", str(tmp_path / "page.txt")]) == 2
    assert main(["animate", H, "--at", "x=3", "y=5", "-o", str(tmp_path / "missing" / "a.html")]) == 2
    assert list(tmp_path.iterdir()) == []


def test_the_command_line(tmp_path, capsys):
    page = tmp_path / "backward.html"
    assert main(["animate", H, "--at", "x=3", "y=5", "--mode", "backward", "-o", str(page)]) == 0
    assert "∂f/∂x = 155, ∂f/∂y = 459" in capsys.readouterr().out
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["animate", H, "--at", "x=3", "y=5", "--wrt", "y", "-o", str(tmp_path / "y.html")]) == 0
    assert "∂f/∂y = 459" in capsys.readouterr().out


def test_central_differences_agree_with_the_last_step(tr):
    movie = pathad.animate(pathad.trace(lambda x, y: pathad.sin(x * y) / (1 + x * x), 0.7, -1.3), "y")
    last = movie.result[movie.graph.number_of_nodes() - 1]
    f, step = (lambda y: math.sin(0.7 * y) / (1 + 0.49)), 1e-6
    assert last == pytest.approx((f(-1.3 + step) - f(-1.3 - step)) / (2 * step), rel=1e-8)


# --- in a real browser ----------------------------------------------------------------------------------


def _missing(reason):
    """Skip, or fail where the browser tests are required (CI sets PATHAD_BROWSER_TESTS=required)."""
    if os.environ.get("PATHAD_BROWSER_TESTS") == "required":
        pytest.fail(f"the browser tests are required here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright import sync_api as playwright
    except ImportError:
        _missing("no playwright (pip install playwright)")
    executable = find_chromium()
    if executable is None:
        _missing("no chromium on this machine (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def _shown_values(page):
    return {
        element.get_attribute("data-node"): element.text_content()
        for element in page.query_selector_all("text.pv")
        if element.text_content()
    }


@pytest.mark.parametrize("mode", ["forward", "backward"])
def test_the_page_steps_through_the_sweep_in_a_browser(browser, tr, tmp_path, mode):
    movie = pathad.animate(tr, "x" if mode == "forward" else None, direction=mode, fold=True)
    path = movie.save(tmp_path / f"{mode}.html")
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(Path(path).as_uri())
    data = movie.data()
    index = movie.positions
    assert page.text_content("#step-count") == f"step 1 of {len(movie.steps)}"
    for k, step in enumerate(movie.steps[1:], start=2):
        page.click("#next")
        assert page.text_content("#step-count") == f"step {k} of {len(movie.steps)}"
        assert page.text_content("#step-text") == step.text
        head = f"n{index[step.head]}"
        assert _shown_values(page)[head] == format_number(step.total)
        assert page.get_attribute(f"g#{data['steps'][k - 1]['edge']}", "class").split().count("current") == 1
    assert page.text_content("#answer") == movie.answer
    solved = pathad.solve(movie.graph, movie.seeds, direction=mode)
    assert _shown_values(page) == {f"n{index[n]}": format_number(v) for n, v in solved.items()}
    page.screenshot(path=str(tmp_path / f"{mode}.png"))
    # the keyboard and the other controls
    page.keyboard.press("Home")
    assert page.text_content("#step-count").startswith("step 1 ") and page.text_content("#answer") == ""
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.text_content("#step-count").startswith("step 2 ")
    page.keyboard.press("End")
    assert page.text_content("#answer") == movie.answer
    page.click("#first")
    page.select_option("#speed", "4")
    page.click("#play")
    page.wait_for_function(f"document.getElementById('answer').textContent === {json.dumps(movie.answer)}")
    page.click("#prev")
    assert page.text_content("#step-count") == f"step {len(movie.steps) - 1} of {len(movie.steps)}"
    page.hover(f"g#n{index[tr.output]}")
    assert page.is_visible("#tip") and "path value so far" in page.text_content("#tip")
    assert errors == []
    page.close()


def test_max_times_lights_up_the_best_path_in_a_browser(browser, tr, tmp_path):
    movie = pathad.animate(tr, "y", semiring="max-times", fold=True)
    page = browser.new_page()
    page.goto(Path(movie.save(tmp_path / "best.html")).as_uri())
    page.click("#last")
    lit = [g.get_attribute("id") for g in page.query_selector_all("g.edge.best")]
    index = movie.positions
    assert lit == [f"e{index[u]}_{index[v]}_0" for u, v in sorted(movie.best, key=lambda e: index[e[1]])]
    page.close()


# --- vertex elimination ------------------------------------------------------------------------------------


def test_elimination_keeps_every_path_value_and_ends_at_the_jacobian(tr):
    movie = pathad.animate_elimination(tr, fold=True)
    assert movie.answer == "x → h: 40 + 115 = 155, y → h: 160 + 299 = 459"
    assert len(movie.steps) == 1 + 2 * 3  # the graph, then before and after each of the three inner nodes
    for graph in movie.graphs:  # the path sums from each input to h never change
        assert pathad.solve(graph, 0)[tr.output] == 155.0
        assert pathad.solve(graph, 1)[tr.output] == 459.0
    final = movie.graphs[-1]
    assert set(final) == {0, 1, tr.output}
    assert all(final.has_edge(u, tr.output) for u in (0, 1))


def test_elimination_marks_fill_in_edges(tr):
    movie = pathad.animate_elimination(tr, fold=True)
    fill_ins = 0
    for before, after, step in zip(movie.graphs, movie.graphs[1:], movie.steps[2::2]):
        made = {}
        for p, s, key, w_in, w_out, old, new in step["changes"]:
            there = before.edges[p, s, key]["partial"] if before.has_edge(p, s, key) else made.get((p, s, key))
            assert old == there  # None: a fill-in edge, neither in the graph nor made earlier in this step
            assert new == w_in * w_out + (old or 0.0)
            made[(p, s, key)] = new
            fill_ins += old is None
        for (p, s, key), new in made.items():
            assert after.edges[p, s, key]["partial"] == new
        assert step["node"] not in after
    assert fill_ins == 6


def test_elimination_order_and_bad_nodes(tr):
    movie = pathad.animate_elimination(tr, [5, 4], fold=True)  # (x+y)·y first, then x+y
    assert [s["node"] for s in movie.steps[1::2]] == [5, 4]
    with pytest.raises(ValueError, match="not in the drawing"):
        pathad.animate_elimination(tr, [2], fold=True)  # 4y is folded away


def test_the_elimination_page_in_a_browser(browser, tr, tmp_path):
    movie = pathad.animate_elimination(tr, fold=True)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(Path(movie.save(tmp_path / "elimination.html")).as_uri())
    counts = []
    for k, step in enumerate(movie.steps, start=1):
        assert page.text_content("#step-count") == f"step {k} of {len(movie.steps)}"
        assert page.text_content("#step-text") == step["text"]
        counts.append(len(page.query_selector_all("#drawing g.node")))
        page.keyboard.press("ArrowRight")
    assert counts == [6, 6, 5, 5, 4, 4, 3]  # each node goes in its "after" step
    assert page.text_content("#answer") == movie.answer
    assert errors == []
    page.close()
