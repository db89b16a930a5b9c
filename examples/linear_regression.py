"""Linear regression by gradient descent, from the steepest-descent post.

Fit y = m·x + c to the points (1, 3), (2, 5), ..., (10, 21) (which lie on
y = 2x + 1) by minimising L(m, c) = 1/(2n) Σ (y − (m·x + c))², starting at
m = c = 0.1 with learning rate γ = 0.04: each step traces L, takes its gradient
with one backward sweep and moves (m, c) := (m, c) − γ·∇L.  The post gets the
partials from dual numbers, one evaluation per parameter; both are checked here
against the formulas ∂L/∂m = −(1/n) Σ x·r and ∂L/∂c = −(1/n) Σ r, r = y − (m·x + c).
"""

import math

import pathad
from pathad.dual import Dual

XS = [float(x) for x in range(1, 11)]
YS = [2 * x + 1 for x in XS]
GAMMA = 0.04


def cost(m, c):
    total = 0.0
    for x, y in zip(XS, YS):
        residual = y - (m * x + c)
        total = total + residual * residual
    return total / (2 * len(XS))


def gradient_by_formula(m, c):
    residuals = [y - (m * x + c) for x, y in zip(XS, YS)]
    n = len(XS)
    return {"m": -sum(x * r for x, r in zip(XS, residuals)) / n, "c": -sum(residuals) / n}


def gradient_by_dual_numbers(m, c):
    """Forward mode as in the post: one evaluation per parameter, seeding that one with derivative 1."""
    return {"m": cost(Dual.variable(m), Dual(c)).derivative, "c": cost(Dual(m), Dual.variable(c)).derivative}


def main():
    m, c = 0.1, 0.1
    for step in range(1001):
        tr = pathad.trace(cost, m=m, c=c)
        grad = pathad.gradient(tr)  # one backward sweep
        if step % 200 == 0:
            print(f"step {step:4}: m = {m:.6f}, c = {c:.6f}, L = {tr.value:.3e}")
            for other in (gradient_by_formula(m, c), gradient_by_dual_numbers(m, c)):
                assert all(math.isclose(grad[k], other[k], rel_tol=1e-9, abs_tol=1e-12) for k in grad)
        m, c = m - GAMMA * grad["m"], c - GAMMA * grad["c"]
    print(f"after 1001 steps: y = {m:.4f}·x + {c:.4f}; the data lie on y = 2x + 1")
    assert abs(m - 2) < 1e-3 and abs(c - 1) < 1e-3
    assert cost(m, c) < 1e-8


if __name__ == "__main__":
    main()
