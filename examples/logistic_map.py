"""The logistic map l(t+1) = 4·l(t)·(1 − l(t)), l(1) = x, and f(x) = l(4): expression swell.

From the slides "Beyond Backpropagation".  Written out, f(x) = 64x(1−x)(1−2x)²(1−8x+8x²)²;
pathad differentiates the loop as it runs, and gets the same derivative as
differentiating the closed form.  Each step uses l(t) twice, so the number of
paths x → l(n+1), which is the number of terms of the derivative written out
by the chain rule before collecting, doubles every step while the graph grows
by three nodes: the expression swell of symbolic differentiation.
"""

import math

import pathad


def logistic_map(steps):
    """The function x -> l(steps + 1); f = l(4) is logistic_map(3)."""

    def logistic(x):
        level = x
        for _ in range(steps):
            level = 4 * level * (1 - level)
        return level

    return logistic


def closed_form(x):
    return 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x**2) ** 2


def main():
    for x in (0.1, 0.3, 0.77):
        loop, formula = pathad.trace(logistic_map(3), x), pathad.trace(closed_form, x)
        backward, forward = pathad.derivative(loop, "x"), pathad.derivative(loop, "x", mode="forward")
        by_formula = pathad.derivative(formula, "x")  # another graph, the same function
        step = 1e-6
        central = (closed_form(x + step) - closed_form(x - step)) / (2 * step)
        print(f"x = {x}: f = {loop.value:.12f}, f' = {backward:.12f} (closed form: {by_formula:.12f})")
        assert math.isclose(loop.value, closed_form(x), rel_tol=1e-12)
        assert math.isclose(backward, by_formula, rel_tol=1e-10) and math.isclose(forward, backward, rel_tol=1e-12)
        assert math.isclose(backward, central, rel_tol=1e-6)

    print("steps  nodes  paths (terms of the unsimplified derivative)")
    for steps in range(1, 11):
        tr = pathad.trace(logistic_map(steps), 0.3)
        nodes, terms = tr.graph.number_of_nodes(), pathad.count_paths(tr, "x", "logistic")
        print(f"{steps:5}  {nodes:5}  {terms}")
        assert (nodes, terms) == (3 * steps + 1, 2**steps)
    # the slides' table: l2 = 4x(1−x) has d/dx = 4(1−x) − 4x, two terms
    assert pathad.count_paths(pathad.trace(logistic_map(1), 0.3), "x", "logistic") == 2


if __name__ == "__main__":
    main()
