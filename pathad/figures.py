"""The figures pathad reproduces, and the one function that regenerates them all.

``pathad figures --out figures/`` (or :func:`make_figures`) writes, as svg and png:

* fig2a, fig2b: the lecture's running example h(x, y) = (x + 4y)·((x + y)·y), as a
  symbolic graph and at x = 3, y = 5 (CS701 notes, Fig. 2);
* fig3a-fig3d: ∂h/∂x = 155 and ∂h/∂y = 459 by forward and backward sweeps, each
  node carrying its path value (Fig. 3);
* fig9: the neural-net training circuit with its edge labels (Fig. 9);
* sigmoid_neuron: the sigmoid neuron t1..t8 of "Developing an intuition for
  backpropagation" with value and gradient per node;
* fd_error: finite-difference error against step size next to the AD error
  (needs matplotlib, the ``plot`` extra; skipped with a note without it);
* waist0-waist5: cross-country elimination of :func:`waist` in Markowitz order, the
  graph after each step with its fill-in edges marked, down to the bipartite graph
  of the Jacobian (17 ⊗ + 3 ⊕, where forward sweeps take 20 + 3 and backward 25 + 1);
* coloring_banded: the colouring of a banded 12 × 12 Jacobian's sparsity pattern
  beside the compressed pattern, one column per colour (needs matplotlib).

Examples
--------
>>> sorted(FIGURES)[:3]
['coloring_banded', 'fd_error', 'fig2a']
>>> figure("fig3a").source.count("155")
2
"""

import io
import math
from functools import partial
from pathlib import Path

from .animate import draw_elimination
from .coloring import color, plot_coloring
from .cost import jacobian_cost
from .derivatives import derivative
from .draw import draw, format_number
from .elimination import fold_linear
from .enumeration import sparsity
from .files import write_atomically
from .functions import cos, exp, sin, sqrt
from .nn import fig9_circuit
from .second import dual_sweep
from .solver import solve
from .tracing import trace

__all__ = [
    "FIGURES",
    "figure",
    "make_figures",
    "h",
    "sigmoid_neuron",
    "fd_error_plot",
    "waist",
    "waist_frames",
    "WAIST_STEPS",
    "banded",
    "coloring_plot",
]


def h(x, y):
    """The lecture's running example: (x + 4y)·((x + y)·y); h(3, 5) = 920."""
    return (x + 4 * y) * ((x + y) * y)


def _h_trace():
    return trace(h, x=3.0, y=5.0)


def fig2a():
    """Fig. 2(a): the symbolic computation graph of h."""
    return draw(
        _h_trace(),
        fold=True,
        symbolic=True,
        values=False,
        partials=False,
        title="h(x, y) = (x+4y)·((x+y)·y): each edge carries ∂head/∂tail",
    )


def fig2b():
    """Fig. 2(b): the computation graph of h at x = 3, y = 5."""
    return draw(
        _h_trace(),
        fold=True,
        names="expression",
        title="h at x = 3, y = 5: values on nodes, partials on edges",
    )


def _fig3(wrt, direction):
    """∂h/∂wrt by one sweep, path values in green; the answer is at the sweep's last node."""
    tr = _h_trace()
    graph = fold_linear(tr)
    source, target = tr.node(wrt), tr.output
    if direction == "forward":
        values = solve(graph, source, direction="forward", targets=target)
        where = f"forward from {wrt}: green is ∂node/∂{wrt}"
    else:
        values = solve(graph, target, direction="backward", targets=source)
        where = "backward from h: green is ∂h/∂node"
    answer = values[target if direction == "forward" else source]
    return draw(
        tr,
        fold=True,
        names="expression",
        sweep=values,
        title=f"∂h/∂{wrt} = {answer:g} at x = 3, y = 5, {where}",
    )


def second_h():
    """The DUAL sweep of the Hessian-vector product of h along v = (1, 0): column x of h's Hessian."""
    tr = _h_trace()
    v = {"x": 1.0}
    pairs = dual_sweep(tr, v)
    x, y = pairs[tr.node("x")], pairs[tr.node("y")]
    return draw(
        tr,
        names="expression",
        second=v,
        sweep=pairs,
        title=(f"Hv for h at x = 3, y = 5 along v = (1, 0): each edge (partial, its rate along v),\n"
               f"each node in green (∂h/∂node, its rate): at x ({x.value:g}, {x.dot:g}), "
               f"at y ({y.value:g}, {y.dot:g})"),
    )  # fmt: skip


def fig3a():
    """Fig. 3(a): ∂h/∂x = 155 by a forward sweep from x."""
    return _fig3("x", "forward")


def fig3b():
    """Fig. 3(b): ∂h/∂x = 155 by a backward sweep from h."""
    return _fig3("x", "backward")


def fig3c():
    """Fig. 3(c): ∂h/∂y = 459 by a forward sweep from y."""
    return _fig3("y", "forward")


def fig3d():
    """Fig. 3(d): ∂h/∂y = 459 by a backward sweep from h."""
    return _fig3("y", "backward")


#: The data, targets and weights of the drawn Fig. 9 circuit (any values give the same picture).
FIG9_DATA = ((1.0, 0.5), (1.0, 0.0, 0.0))


def fig9():
    """Fig. 9: the training circuit, inner sums and the steps of ½(y−v)² left out as in the lecture."""
    tr = fig9_circuit(*FIG9_DATA)
    drawing = draw(
        tr,
        eliminate=_fig9_hidden_steps(tr.graph),
        symbolic=True,
        partials=False,
        values=False,
        names="expression",
        rankdir="LR",
        label_place="head",
        title="Training circuit: Cost = ½(y₁−v₁)² + ½(y₂−v₂)² + ½(y₃−v₃)²; each edge carries ∂head/∂tail",
    )
    drawing.graph_attr.update(nodesep="0.8", ranksep="1.2", fontsize="20")  # room for crossing edges' labels
    drawing.edge_attr.update(fontsize="13")
    return drawing


def _fig9_hidden_steps(graph):
    """The nodes the lecture does not draw: y−v and its square, and additions feeding additions."""
    steps = [n for n, op in graph.nodes(data="op") if op in ("sub", "pow")]
    steps += [
        n
        for n, op in graph.nodes(data="op")
        if op == "add" and graph.out_degree(n) and all(graph.nodes[s]["op"] == "add" for s in graph.successors(n))
    ]
    return steps


def sigmoid_neuron(w, b, x, target):
    """The sigmoid neuron t1..t8 of the backpropagation-intuition post: t8 = (σ(w·x + b) − target)²."""
    t1 = (w * x).named("t1")
    t2 = (t1 + b).named("t2")
    t3 = (-1 * t2).named("t3")
    t4 = exp(t3).named("t4")
    t5 = (t4 + 1).named("t5")
    t6 = (t5**-1).named("t6")
    t7 = (t6 - target).named("t7")
    return (t7**2).named("t8")


def neuron():
    """The sigmoid neuron at w = 2, b = 0, x = 1, target = 10 with value and gradient per node."""
    tr = trace(sigmoid_neuron, w=2.0, b=0.0, x=1.0, target=10.0)
    grads = solve(tr.graph, tr.output, direction="backward")
    dw = format_number(grads[tr.node("w")], precision=10)
    return draw(
        tr,
        sweep=grads,
        sweep_label="grad",
        symbolic=True,
        names="definition",
        title=f"Sigmoid neuron: each node's value and grad = ∂t₈/∂node; ∂t₈/∂w = {dw}",
    )


def _f(x):
    return sqrt(3 * sin(x))


def _f_prime(x):
    return 3 * math.cos(x) / (2 * math.sqrt(3 * math.sin(x)))


def fd_error_plot(x=2.0):
    """Error of finite differences against step size, and of AD, for f(x) = √(3 sin x) at ``x``.

    Returns a matplotlib Figure (needs matplotlib).
    """
    import numpy as np
    from matplotlib.figure import Figure

    exact = _f_prime(x)
    steps = np.logspace(-16, 0, 161)
    forward = [abs((_f(x + s) - _f(x)) / s - exact) for s in steps]
    central = [abs((_f(x + s) - _f(x - s)) / (2 * s) - exact) for s in steps]
    ad_error = abs(derivative(trace(_f, x=x), "x") - exact)
    floor = 1e-17
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.loglog(steps, np.maximum(forward, floor), label="forward difference (f(x+h) − f(x))/h")
    ax.loglog(steps, np.maximum(central, floor), label="central difference (f(x+h) − f(x−h))/2h")
    shown = f"{ad_error:.1e}" if ad_error else "0, drawn at 1e−17"
    ax.axhline(max(ad_error, floor), color="black", linestyle="--", label=f"pathad (AD): error {shown}")
    ax.set(xlabel="step size h", ylabel="|estimate − exact f′(2)|", ylim=(floor / 3, 30))
    ax.set_title("f(x) = √(3 sin x) at x = 2: error of the derivative\nby finite differences and by AD", fontsize=11)
    ax.grid(True, which="major", linestyle=":")
    ax.legend(loc="upper center", fontsize=8)
    return fig


class _Plot:
    """A matplotlib figure with the same ``write(path)`` as a drawing."""

    def __init__(self, fig):
        self.fig = fig

    @property
    def source(self):
        """Every text the plot shows (titles, axis and tick labels, annotations), one a line: what a check of
        the glyphs reads, as it reads a drawing's DOT source."""
        texts = [self.fig.get_suptitle()]
        for ax in self.fig.axes:
            texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
            texts += [t.get_text() for t in [*ax.texts, *ax.get_xticklabels(), *ax.get_yticklabels()]]
            legend = ax.get_legend()
            texts += [t.get_text() for t in legend.get_texts()] if legend is not None else []
        return "\n".join(t for t in texts if t)

    def write(self, path):
        path = Path(path)
        buffer = io.BytesIO()
        fmt = path.suffix.lstrip(".").lower()
        self.fig.savefig(buffer, format=fmt, dpi=150, metadata=_PLOT_METADATA.get(fmt))
        write_atomically(path, buffer.getvalue())
        return path


_PLOT_METADATA = {"svg": {"Date": None}, "png": {"Software": None}, "pdf": {"CreationDate": None}}


def fd_error():
    """The finite-difference error plot, ready to write."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "pathad"  # the same svg bytes on every run
    return _Plot(fd_error_plot())


def waist(a, b, c):
    """Three inputs through one node w to three outputs: the shape where neither sweep direction is cheap.

    Forward sweeps (one per input) take 20 ⊗ and 3 ⊕ for its Jacobian,
    backward sweeps (one per output) 25 ⊗ and 1 ⊕; vertex elimination in
    Markowitz order, cheapest node first, 17 ⊗ and 3 ⊕: the three sines, the
    first sum, then w with 3 edges in × 4 out.
    """
    w = (sin(a) + sin(b) + sin(c)).named("w")
    return cos(w).named("cos(w)"), exp(w).named("exp(w)"), (w * w).named("w·w")


#: The nodes the Markowitz elimination of :func:`waist` removes: one figure per step, and one before them.
WAIST_STEPS = 5


def waist_frames():
    """The frames of :func:`pathad.draw_elimination` for :func:`waist` at (0.1, 0.2, 0.3), Markowitz order."""
    tr = trace(waist, 0.1, 0.2, 0.3)
    frames = draw_elimination(tr, "markowitz", title="waist(a, b, c): cross-country elimination, Markowitz order")
    cost = jacobian_cost(tr)
    sweeps = " and ".join(f"{way} sweeps ({c.times} + {c.plus})" for way, c in cost.items())
    last = frames[-1].drawing
    last.graph_attr["label"] = last.graph_attr["label"].replace(
        "<BR/><FONT", f"<BR/><B>cheaper than {sweeps}</B><BR/><FONT", 1
    )
    return frames


def _waist_figure(step):
    return waist_frames()[step].drawing


def banded(x):
    """Output i reads inputs i−1, i and i+1 (the two ends two): y_i = x_i · (x_{i−1} + sin x_{i+1}).

    Its Jacobian is tridiagonal: three colours, whatever the number of inputs.
    """
    n = len(x)
    return [x[i] * ((x[i - 1] if i else 0.0) + (sin(x[i + 1]) if i + 1 < n else 0.0)) for i in range(n)]


def coloring_plot(n=12):
    """The sparsity pattern of :func:`banded` on ``n`` inputs, coloured by :func:`pathad.coloring.color`."""
    import numpy as np

    tr = trace(banded, x=np.linspace(0.1, 1.2, n))
    pattern = sparsity(tr)
    return plot_coloring(pattern, color(pattern), title=f"banded: each of {n} outputs reads 3 neighbouring inputs")


def coloring_banded():
    """The colouring figure, ready to write."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "pathad"
    return _Plot(coloring_plot())


#: name -> function returning the figure (a drawing or a plot) to write.
FIGURES = {
    "fig2a": fig2a,
    "fig2b": fig2b,
    "fig3a": fig3a,
    "fig3b": fig3b,
    "fig3c": fig3c,
    "fig3d": fig3d,
    "fig9": fig9,
    "sigmoid_neuron": neuron,
    "fd_error": fd_error,
    **{f"waist{k}": partial(_waist_figure, k) for k in range(WAIST_STEPS + 1)},
    "coloring_banded": coloring_banded,
    "second_h": second_h,
}


def figure(name):
    """The figure called ``name`` (a :class:`pathad.draw.Drawing`, or a plot for "fd_error").

    Examples
    --------
    >>> figure("fig2a").source.count("->")
    8
    """
    try:
        return FIGURES[name]()
    except KeyError:
        raise ValueError(f"no figure {name!r}; the figures are {', '.join(FIGURES)}") from None


def make_figures(out, *, names=None, formats=("svg", "png"), log=None):
    """Write the figures into directory ``out`` (created if missing); return the paths written.

    Parameters
    ----------
    out : str or pathlib.Path
    names : list of str, optional
        Which figures (default all of :data:`FIGURES`).
    formats : tuple of str
        File suffixes to write, e.g. ("svg", "png").
    log : callable, optional
        Called with one line of text per file written or figure skipped.

    Examples
    --------
    >>> make_figures("figures", names=["fig2a"])  # doctest: +SKIP
    [PosixPath('figures/fig2a.svg'), PosixPath('figures/fig2a.png')]
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or FIGURES:
        try:
            fig = figure(name)
        except ModuleNotFoundError as exc:
            _say(log, f'skipped {name}: needs {exc.name} (pip install "pathad[plot]")')
            continue
        for fmt in formats:
            written.append(fig.write(out / f"{name}.{fmt}"))
            _say(log, f"wrote {written[-1]}")
    return written


def _say(log, line):
    if log is not None:
        log(line)
