"""The lecture's running example: h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5.

CS701 notes, Figs. 2 and 3 and Example 4.1: h = 920, ∂h/∂x = 155, ∂h/∂y = 459.
A forward sweep from one input gives ∂v/∂input for every node v; one backward
sweep from h gives ∂h/∂v for every node v, both inputs at once.  Each answer is
the sum over the paths input → h of the products of the edge labels.
"""

import pathad


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def main():
    tr = pathad.trace(h, x=3.0, y=5.0)
    fig2 = pathad.fold_linear(tr)  # fold the constant scaling 4·y into its edge, as Fig. 2 draws it
    print(f"h(3, 5) = {tr.value:g}; Fig. 2's graph: {fig2.number_of_nodes()} nodes, {fig2.number_of_edges()} edges")
    assert tr.value == 920.0
    assert (fig2.number_of_nodes(), fig2.number_of_edges()) == (6, 8)
    assert sorted(p for _, _, p in fig2.edges(data="partial")) == [1, 1, 1, 4, 5, 8, 23, 40]

    forward = {name: pathad.solve(tr, name)[tr.output] for name in tr.inputs}  # one sweep per input
    backward = pathad.solve(tr, "h", direction="backward")  # one sweep for both inputs
    print(f"forward  (Fig. 3(a), (c)): ∂h/∂x = {forward['x']:g}, ∂h/∂y = {forward['y']:g}  (two sweeps)")
    print(f"backward (Fig. 3(b), (d)): ∂h/∂x = {backward[0]:g}, ∂h/∂y = {backward[1]:g}  (one sweep)")
    assert forward == {"x": 155.0, "y": 459.0}
    assert (backward[tr.node("x")], backward[tr.node("y")]) == (155.0, 459.0)

    print("the paths behind them:")
    print("  " + pathad.explain(tr, "x", symbolic=False))
    print("  " + pathad.explain(tr, "y", symbolic=False))
    assert pathad.count_paths(tr, "x", "h") == 2 and pathad.count_paths(tr, "y", "h") == 3

    # Example 4.1: expanded, h = x²y + 5xy² + 4y³, so ∂h/∂x = 2xy + 5y² = 30 + 125
    x, y = 3.0, 5.0
    assert 2 * x * y + 5 * y**2 == 155.0
    print("Example 4.1: ∂h/∂x = 2xy + 5y² = 2·3·5 + 5·5² = 155")


if __name__ == "__main__":
    main()
