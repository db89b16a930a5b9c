"""Scopes and collapsed drawings: regions of a big trace replaced by edges that carry their path values.

The oracles: the gradient of the whole trace (one backward sweep on the tape)
and central differences; a collapsed view must give the same derivatives from
every input to every output, since eliminating nodes keeps every path value.
"""

import math
import threading

import numpy as np
import pytest

import pathad
from pathad.draw import View
from pathad.regions import collapsed


def net(x0, x1, x2):
    rng = np.random.default_rng(0)
    W1, W2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))
    x = [x0, x1, x2]
    with pathad.scope("layer1"):
        h = [pathad.tanh(sum(W1[i, j] * x[j] for j in range(3))) for i in range(4)]
    with pathad.scope("layer2"):
        y = [sum(W2[i, j] * h[j] for j in range(4)) for i in range(2)]
    with pathad.scope("cost"):
        return sum(v * v for v in y)


POINT = (0.1, -0.2, 0.3)


def central(f, point, i, step=1e-6):
    up, down = list(point), list(point)
    up[i] += step
    down[i] -= step
    return (f(*up) - f(*down)) / (2 * step)


def test_scopes_name_the_nodes_recorded_inside():
    def f(x, y):
        with pathad.scope("outer"):
            with pathad.scope("inner"):
                u = x * y
            v = u + x
        return v * v

    tr = pathad.trace(f, 2.0, 3.0)
    assert [tr.graph.nodes[n].get("scope") for n in tr.graph] == [None, None, "outer/inner", "outer", None]
    assert f(2.0, 3.0) == 64.0  # untraced, the blocks just run
    for bad in ("", "a/b", 3):
        with pytest.raises(ValueError, match="scope's name"):
            with pathad.scope(bad):
                pass


def test_a_scope_records_on_the_trace_of_its_own_thread():
    found = {}

    def f(x, name):
        with pathad.scope(name):
            return x * x + x

    def run(name):
        found[name] = pathad.trace(lambda x: f(x, name), 1.5)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, tr in found.items():
        assert {tr.graph.nodes[n].get("scope") for n in tr.graph} == {None, name}


@pytest.mark.parametrize("collapse", ["layer1", ["layer1", "layer2"], True, "auto"])
def test_a_collapsed_view_keeps_every_derivative(collapse):
    tr = pathad.trace(net, *POINT)
    view = View(tr, collapse=collapse, max_nodes=None)
    swept = view.swept()
    assert len(swept) < len(tr.graph) or collapse == "auto"
    gradient = pathad.gradient(tr)
    for i, name in enumerate(("x0", "x1", "x2")):
        through_view = pathad.solve(swept, i).get(tr.output, 0.0)
        assert through_view == pytest.approx(gradient[name], rel=1e-12)
        assert through_view == pytest.approx(central(net, POINT, i), rel=1e-7)


def test_collapsing_every_scope_leaves_the_layers():
    tr = pathad.trace(net, *POINT)
    view = View(tr, collapse=True)
    scopes = [view.work.nodes[n].get("scope") for n in view.work]
    assert scopes.count("layer1") == 4 and scopes.count("layer2") == 2  # each layer's results
    assert len(view.work) == 3 + 4 + 2 + 1
    assert set(view.names().values()) >= {"layer1: tanh", "layer2: +", "net"}


def test_unknown_scopes_are_named_with_the_known_ones():
    tr = pathad.trace(net, *POINT)
    with pytest.raises(ValueError, match=r"no scope 'layer3'.*cost, layer1, layer2"):
        pathad.draw(tr, collapse="layer3")


def test_auto_collapses_single_entry_single_exit_regions():
    def f(x):
        y = x
        for _ in range(3):
            y = pathad.sin(y) * y
        return y * x

    tr = pathad.trace(f, 0.5)
    gone = collapsed(tr.graph, "auto")
    assert gone == {3, 4, 5}  # between the first product (2) and the last (6): sin, ×, sin
    swept = View(tr, collapse="auto").swept()
    assert pathad.solve(swept, 0)[tr.output] == pytest.approx(pathad.gradient(tr)["x"], rel=1e-12)
    h = pathad.trace(lambda x, y: (x + 4 * y) * ((x + y) * y), 3.0, 5.0)
    assert collapsed(h.graph, "auto") == set()  # every inner node is reached from both inputs


def test_a_big_training_trace_reads_as_layers():
    circuit = pathad.nn.Circuit(pathad.nn.MLP([16, 8, 4], "relu", output="linear"), pathad.nn.SquaredError())
    rng = np.random.default_rng(1)
    theta = rng.normal(scale=0.3, size=len(circuit.parameters()))
    x, v = rng.normal(size=16), np.eye(4)[2]
    names = circuit.parameters()
    tr = pathad.trace(lambda *w: circuit(x.tolist(), v.tolist(), dict(zip(names, w))), *theta)
    assert len(tr.graph) > 300  # too many to draw
    with pytest.raises(pathad.DrawingTooLargeError):
        pathad.draw(tr)
    view = View(tr, collapse=True)
    assert len(view.work) <= 300
    swept = view.swept()
    gradient = pathad.solve(tr, tr.output, direction="backward")
    by_view = pathad.solve(swept, tr.output, direction="backward")
    for node in tr.inputs.values():
        assert by_view.get(node, 0.0) == pytest.approx(gradient.get(node, 0.0), rel=1e-10, abs=1e-14)


def test_the_animation_runs_on_the_collapsed_view():
    tr = pathad.trace(net, *POINT)
    movie = pathad.animate(tr, direction="backward", collapse=True)
    gradient = pathad.gradient(tr)
    for i, name in enumerate(("x0", "x1", "x2")):
        assert movie.result[i] == pytest.approx(gradient[name], rel=1e-12)
    assert all(math.isfinite(step.total) for step in movie.steps[1:])
