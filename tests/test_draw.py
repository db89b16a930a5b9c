"""pathad.draw and pathad.figures: labels, options, real rendering, errors.

Facts come from the lecture (Fig. 2: six nodes, eight edges, partials 1, 4, 1, 1,
5, 8, 40, 23; Fig. 3: 155 and 459), from networkx counts, and from the SVG the
renderer writes, parsed with xml.etree.
"""

import importlib
import os
import re
import xml.etree.ElementTree as ET

import graphviz
import networkx as nx
import pytest

import pathad.files as filesmod
from pathad import eliminate, fold_linear, solve, trace
from pathad.cli import main
from pathad.draw import (
    Drawing,
    DrawingTooLargeError,
    Formula,
    RendererNotFoundError,
    RenderError,
    draw,
    find_renderer,
    format_number,
    repr_mimebundle,
    symbolic_labels,
)
from pathad.figures import FIGURES, figure, make_figures, sigmoid_neuron
from pathad.functions import sigmoid, sqrt

drawmod = importlib.import_module("pathad.draw")  # the module, even when pathad.draw is the function
SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\N{NO-BREAK SPACE}"


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


@pytest.fixture
def tr():
    return trace(h, x=3.0, y=5.0)


def parse_svg(path):
    """{node title: [texts]}, [edge texts] of a graphviz svg file."""
    root = ET.parse(path).getroot()
    nodes, edges = {}, []
    for group in root.iter(f"{SVG}g"):
        texts = ["".join(t.itertext()).strip(NBSP + " ") for t in group.iter(f"{SVG}text")]
        if group.get("class") == "node":
            nodes[group.find(f"{SVG}title").text] = texts
        elif group.get("class") == "edge":
            edges.append(texts)
    return nodes, edges


def edge_labels(drawing):
    return sorted(label for texts in drawing for label in texts)


# --- format_number -----------------------------------------------------------------


def test_format_number_integers_whole_and_noise_rounded():
    assert format_number(920.0) == "920"
    assert format_number(40.00000000001) == "40"
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(-1.9149156216104704) == "−1.915"


def test_format_number_precision_and_exponents():
    assert format_number(-1.9149156216104704, precision=8) == "−1.9149156"
    assert format_number(2.5e-9) == "2.5e−9"
    assert format_number(12345678.0) == "12345678"
    assert format_number(-0.0) == "0"


# --- Formula and symbolic_labels ---------------------------------------------------


def test_formula_keeps_the_written_form_and_folds_numbers():
    x, y, v = Formula.name("x"), Formula.name("y"), Formula.name("v")
    assert str((x + y) * y) == "(x+y)·y"
    assert str(x + 4.0 * y) == "x+4y"
    assert str(1.0 * (2.0 * (y - v)) * 0.5) == "y−v"
    assert str(x + x) == "2x"
    assert (x - x) == 0.0


def test_symbolic_labels_of_h_are_the_lecture_fig2a_labels(tr):
    nodes, edges = symbolic_labels(tr)
    assert nodes == {2: "4y", 3: "x+4y", 4: "x+y", 5: "(x+y)·y", 6: "(x+4y)·(x+y)·y"}
    # the 4y node (2) is traced; its edge y->4y carries 4 and 4y->x+4y carries 1
    assert edges[1, 2, 1] == "4" and edges[2, 3, 1] == "1"
    assert edges[3, 6, 0] == "(x+y)·y" and edges[5, 6, 1] == "x+4y"
    assert edges[4, 5, 0] == "y" and edges[1, 5, 1] == "x+y"


def test_symbolic_labels_use_the_rule_table_for_other_operations():
    def f(u):
        v = sqrt(u).named("v")
        return sigmoid(v).named("s")

    t = trace(f, u=4.0)
    _, edges = symbolic_labels(t)
    assert edges[0, 1, 0] == "1/(2v)"  # the lecture's sqrt label
    assert edges[1, 2, 0] == "s(1−s)"  # and its sigmoid label v(1-v)


def test_symbolic_labels_show_numbers_where_the_graph_was_changed(tr):
    G = eliminate(tr, [2])  # y -> (x+4y) now carries 4, which the add rule does not give
    nodes, edges = symbolic_labels(G)
    assert edges[1, 3, 1] == "4"
    assert 3 not in nodes
    assert edges[3, 6, 0] == "(x+y)·y"


def test_symbolic_labels_name_constants(tr):
    _, edges = symbolic_labels(tr, constants={(2, 0): "c"})
    assert edges[1, 2, 1] == "c"


# --- draw: the DOT it builds -------------------------------------------------------


def test_draw_returns_a_graphviz_digraph_with_the_graph(tr):
    d = draw(tr)
    assert isinstance(d, graphviz.Digraph)
    assert d.source.count("->") == tr.graph.number_of_edges() == 9


def test_fold_gives_fig2_and_partials(tr):
    d = draw(tr, fold=True)
    G = fold_linear(tr)
    assert d.source.count("->") == G.number_of_edges() == 8
    assert sum(" [label=<" in line for line in d.source.splitlines() if "->" not in line) == 6
    partials = sorted(format_number(p) for _, _, p in G.edges(data="partial"))
    shown = sorted(line.split("label=<")[1].split(">")[0].strip(NBSP) for line in d.source.splitlines() if "->" in line)
    assert shown == partials


def test_fold_with_symbolic_labels_multiplies_formulas(tr):
    d = draw(tr, fold=True, symbolic=True, partials=False)
    assert f"n1 -> n3 [label=<{NBSP}4> id=e1_3_0]" in d.source  # y -> x+4y: 4·1


def test_sweep_values_are_shown_and_others_greyed(tr):
    G = fold_linear(tr)
    values = solve(G, 0, targets=6)
    d = draw(tr, fold=True, sweep=values, sweep_label="d/dx")
    assert "d/dx 155" in d.source
    assert 'n1 [label=<y<BR/><FONT POINT-SIZE="12">5</FONT>>' in d.source  # y: no path value
    assert d.source.count("style=dashed") == 3  # the three edges out of y


def test_highlight_marks_the_path_edges(tr):
    d = draw(tr, fold=True, highlight=["x", 4, 5, "h"])
    assert d.source.count("penwidth=2.2") == 3


def test_between_draws_only_nodes_on_paths(tr):
    d = draw(tr, fold=True, between=("x", "h"))
    G = fold_linear(tr)
    on_paths = {n for path in nx.all_simple_paths(G, 0, 6) for n in path}
    drawn = {int(n) for n in re.findall(r"^\s*n(\d+) \[", d.source, flags=re.MULTILINE)}
    assert drawn == on_paths == {0, 3, 4, 5, 6}


def test_names_styles(tr):
    assert "label=<×<BR/>" in draw(tr, names="op").source
    assert "label=<v5<BR/>" in draw(tr, names="label", subscripts=False).source
    assert "label=<v₅<BR/>" in draw(tr, names="label").source
    t = trace(sigmoid_neuron, w=2.0, b=0.0, x=1.0, target=10.0)
    assert "t₁ = w·x" in draw(t, names="definition").source


def test_precision_option(tr):
    t = trace(lambda x: x / 3.0, 1.0)
    assert "0.3333<" in draw(t).source
    assert "0.333333<" in draw(t, precision=6).source


# --- draw: big graphs and bad input ------------------------------------------------------


def chain(n):
    def f(x):
        for _ in range(n):
            x = x * 1.0001 + 0.5
        return x

    return trace(f, 1.0)


def test_big_graph_is_refused_with_the_way_out():
    t = chain(200)  # 401 nodes
    with pytest.raises(DrawingTooLargeError, match=r"max_nodes=300.*between=\(source, target\).*max_nodes=None"):
        draw(t)


def test_big_graph_drawn_when_forced_or_restricted():
    t = chain(200)
    assert draw(t, max_nodes=None).source.count("->") == t.graph.number_of_edges()
    assert draw(t, between=(396, t.output)).source.count("->") == 4


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"rankdri": "LR"}, TypeError, "unknown option 'rankdri'; did you mean 'rankdir'"),
        ({"rankdir": "up"}, ValueError, "rankdir must be one of"),
        ({"names": "fancy"}, ValueError, "names must be one of"),
        ({"precision": 0}, ValueError, "precision must be an integer from 1 to 17"),
        ({"max_nodes": -1}, ValueError, "max_nodes"),
        ({"between": ("x",)}, ValueError, "between must be a pair"),
        ({"between": ("h", "x")}, ValueError, "no path leads from 'h' to 'x'"),
        ({"highlight": ["x", "nope"]}, Exception, "nope"),
        ({"sweep": {99: 1.0}}, ValueError, "sweep has a value for node 99"),
        ({"sweep": [1.0]}, TypeError, "sweep must be a dict"),
    ],
)
def test_bad_options_are_clear_errors(tr, options, error, message):
    with pytest.raises(error, match=message):
        draw(tr, **options)


def test_unknown_format_writes_nothing(tr, tmp_path):
    with pytest.raises(ValueError, match=r"unknown format 'bmp'.*svg, png"):
        draw(tr, tmp_path / "h.bmp")
    assert list(tmp_path.iterdir()) == []


def test_failed_render_leaves_the_old_file_untouched(tr, tmp_path, monkeypatch):
    target = tmp_path / "h.svg"
    target.write_text("old")

    def broken(*args, **kwargs):
        raise RenderError("renderer crashed")

    monkeypatch.setattr(drawmod, "render", broken)
    with pytest.raises(RenderError):
        draw(tr, target)
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(filesmod.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        filesmod.write_atomically(tmp_path / "a.svg", b"<svg/>")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_a_clear_error(tr, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        draw(tr, tmp_path / "nowhere" / "h.dot")


# --- renderers ---------------------------------------------------------------------


@pytest.fixture
def no_renderer(monkeypatch):
    monkeypatch.delenv("PATHAD_DOT", raising=False)
    monkeypatch.setattr(drawmod, "_graphviz_pure", lambda: None)
    monkeypatch.setattr(drawmod.shutil, "which", lambda *args, **kwargs: None)


def test_without_renderer_source_and_dot_still_work(tr, tmp_path, no_renderer):
    d = draw(tr, tmp_path / "h.dot")
    assert (tmp_path / "h.dot").read_text(encoding="utf-8") == d.source
    with pytest.raises(RendererNotFoundError, match="pip install graphviz-pure.*apt install graphviz"):
        d.write(tmp_path / "h.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.dot"]
    assert "not rendered" in d._repr_mimebundle_()["text/plain"]


def test_pdf_needs_graphviz_dot(no_renderer):
    with pytest.raises(RendererNotFoundError, match="pdf needs Graphviz's dot.*graphviz-pure writes svg, png and jpeg"):
        find_renderer("pdf")


def test_pathad_dot_wins_and_must_exist(monkeypatch):
    pure = drawmod._graphviz_pure()
    monkeypatch.setenv("PATHAD_DOT", pure)
    assert find_renderer("svg") == pure
    monkeypatch.setenv("PATHAD_DOT", "/no/such/dot")
    with pytest.raises(RendererNotFoundError, match="PATHAD_DOT='/no/such/dot'"):
        find_renderer("svg")


def test_graphviz_pure_is_found_for_svg_and_png(monkeypatch):
    monkeypatch.delenv("PATHAD_DOT", raising=False)
    assert os.path.basename(find_renderer("png")).startswith("graphviz-pure")


# --- rendering for real: the figures --------------------------------------------------


@pytest.fixture(scope="module")
def svgs(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    make_figures(out, names=["fig2a", "fig2b", "fig3a", "fig3b", "fig3c", "fig3d", "fig9"], formats=("svg",))
    return {path.stem: parse_svg(path) for path in out.iterdir()}


def test_fig2a_is_the_symbolic_graph(svgs):
    nodes, edges = svgs["fig2a"]
    assert len(nodes) == 6 and len(edges) == 8
    assert edge_labels(edges) == sorted(["1", "1", "1", "4", "y", "x+y", "(x+y)·y", "x+4y"])
    assert sorted(t[0] for t in nodes.values()) == sorted(["x", "y", "x+4y", "x+y", "(x+y)·y", "h = (x+4y)·(x+y)·y"])


def test_fig2b_has_the_lecture_values_and_partials(svgs):
    nodes, edges = svgs["fig2b"]
    assert len(nodes) == 6 and len(edges) == 8
    assert sorted(t[1] for t in nodes.values()) == sorted(["3", "5", "23", "8", "40", "920"])
    assert edge_labels(edges) == sorted(["1", "4", "1", "1", "5", "8", "40", "23"])


@pytest.mark.parametrize(
    "name, answer_node, answer",
    [("fig3a", "n6", "155"), ("fig3b", "n0", "155"), ("fig3c", "n6", "459"), ("fig3d", "n1", "459")],
)
def test_fig3_carries_path_values_and_ends_with_the_answer(svgs, name, answer_node, answer):
    nodes, edges = svgs[name]
    assert len(nodes) == 6 and len(edges) == 8
    assert nodes[answer_node][-1] == answer


def test_fig3a_path_values_are_the_forward_sweep(svgs):
    nodes, _ = svgs["fig3a"]
    assert {title: texts[2] for title, texts in nodes.items() if len(texts) == 3} == {
        "n0": "1",
        "n3": "1",
        "n4": "1",
        "n5": "5",
        "n6": "155",
    }


def test_fig9_is_the_training_circuit(svgs):
    nodes, edges = svgs["fig9"]
    # 15 weights, 15 products, 3 + 3 sums, h1..h3, y1..y3, three ½(y−v)² and Cost
    assert len(nodes) == 46
    # w->product 15, h->product 9, product->sum 15, sum->σ 6, y->½(y−v)² 3, ->Cost 3
    assert len(edges) == 51
    labels = edge_labels(edges)
    for label in ("h₁(1−h₁)", "y₂(1−y₂)", "y₂−v₂", "w₃", "w₁₄·x₁"[-2:], "h₁"):
        assert label in labels
    assert labels.count("x₁") == 3 and labels.count("1") == 18
    names = {t[0] for t in nodes.values()}
    assert {"Cost = +", "h₁ = σ(w₁₀·x₁+w₁₁·x₂)", "y₃ = σ", "w₁₄", "½(y₂−v₂)²", "w₄·h₁"} <= names


def test_png_is_written(tmp_path):
    path = figure("fig2b").write(tmp_path / "fig2b.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_drawing_shows_itself_in_jupyter(tr):
    bundle = draw(tr)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    both = repr_mimebundle(tr)
    assert "<svg" in both["image/svg+xml"] and both["text/plain"].startswith("<Trace h")


def test_too_big_trace_shows_as_text(tr):
    bundle = repr_mimebundle(chain(200))
    assert "image/svg+xml" not in bundle and "max_nodes" in bundle["text/plain"]


def test_drawing_pipe_uses_pathad_renderer(tr):
    assert isinstance(draw(tr).pipe("svg"), bytes)
    assert isinstance(Drawing().pipe("svg", encoding="utf-8"), str)


# --- figures and the command ----------------------------------------------------------


def test_figures_command_writes_the_files(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path / "figs"), "--only", "fig2a", "fig9", "--format", "svg"]) == 0
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["fig2a.svg", "fig9.svg"]
    assert "wrote" in capsys.readouterr().out


def test_figures_command_reports_a_missing_pdf_renderer(tmp_path, capsys, no_renderer):
    assert main(["figures", "--out", str(tmp_path), "--only", "fig2a", "--format", "pdf"]) == 2
    assert "pdf needs Graphviz's dot" in capsys.readouterr().err


def test_sigmoid_neuron_gradient_is_the_posts_number():
    t = trace(sigmoid_neuron, w=2.0, b=0.0, x=1.0, target=10.0)
    grads = solve(t.graph, t.output, direction="backward")
    assert grads[t.node("w")] == pytest.approx(-1.9149156216104704, rel=1e-14)
    assert "∂t₈/∂w = −1.914915622" in figure("sigmoid_neuron").source


def test_fd_error_plot_shows_ad_far_below_finite_differences(tmp_path):
    pytest.importorskip("matplotlib")
    fig = figure("fd_error")
    path = fig.write(tmp_path / "fd.svg")
    assert ET.parse(path).getroot().tag == f"{SVG}svg"
    lines = fig.fig.axes[0].get_lines()
    best_fd = min(min(line.get_ydata()) for line in lines[:2])
    ad_line = lines[2].get_ydata()[0]
    assert ad_line < best_fd / 1e3


def test_every_figure_has_a_builder():
    assert set(FIGURES) >= {"fig2a", "fig2b", "fig3a", "fig3b", "fig3c", "fig3d", "fig9", "sigmoid_neuron", "fd_error"}
    with pytest.raises(ValueError, match="no figure 'fig4'"):
        figure("fig4")


@pytest.mark.parametrize("name", [n for n in FIGURES if n != "fd_error"])
def test_figure_labels_use_only_glyphs_the_bundled_fonts_have(name):
    assert not set(figure(name).source) & set("∇⊙∈")
