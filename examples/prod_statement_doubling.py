"""The lecture's Prod and Prod′ (CS701 notes, Examples 2.1 and 2.2) by statement doubling of Python source.

Prod(x) = f₁(x)·f₂(x)·…·f_k(x) is a loop ``ans = ans * f_i(x)``; the lecture's
transformation gives every float variable v a companion v′ and puts
``v′ = exp′`` before each ``v = exp``, so Prod′ keeps the loop and updates
``ans′ = ans′·f_i(x) + ans·f′_i(x)`` before ``ans = ans·f_i(x)``.
:func:`pathad.forward_source` does this to the function's own source; here
f₁ = sin, f₂ = exp, f₃ = x², f₄ = cos, and f_i(x) is one Python function ``f(i, x)``,
transformed too (its derivative is ``d_f(i, x, d_x)``).

Example 2.2 checks the transformation by the loop invariant: at the start of
each iteration, ans′ = d ans/dx.  The state at the start of iteration i + 1 is
the state after i iterations, which is what Prod and Prod′ return for k = i, so
running the generated code for k = 0, 1, …, 4 shows the table row by row; each
row is checked against sympy's derivative of the symbolic ans.
"""

import math

import sympy as sp

import pathad

X0 = 0.7


def f(i, x):
    """f₁ = sin, f₂ = exp, f₃ = x², f₄ = cos."""
    if i == 1:
        return pathad.sin(x)
    elif i == 2:
        return pathad.exp(x)
    elif i == 3:
        return x**2
    else:
        return pathad.cos(x)


def prod(x, k=3):
    """The lecture's Prod: the product f₁(x)·…·f_k(x), by a loop."""
    ans = 1.0
    for i in range(1, k + 1):
        ans = ans * f(i, x)
    return ans


def main():
    d_prod = pathad.forward_source(prod, wrt="x")
    print("The generated Prod′ (k = 3 by default), with f′_i generated from f_i:\n")
    print(d_prod.source)
    lines = d_prod.source.splitlines()
    doubled = [n for n, line in enumerate(lines) if line.strip().startswith(("d_ans = d_ans", "ans = ans"))]
    assert "d_ans = d_ans * f(i, x) + ans * d_f(i, x, d_x)" in lines[doubled[0]]  # ans′ = ans′·f_i + ans·f′_i
    assert lines[doubled[1]].strip() == "ans = ans * f(i, x)" and doubled[1] == doubled[0] + 1  # ... then ans
    assert "return d_ans" in d_prod.source

    value, slope = prod(X0), d_prod(X0)
    x = sp.Symbol("x")
    fs = [sp.sin(x), sp.exp(x), x**2, sp.cos(x)]
    exact = sp.diff(sp.Mul(*fs[:3]), x).subs(x, X0)
    print(f"Prod({X0}) = {value!r}, Prod′({X0}) = {slope!r} (sympy: {float(exact)!r})\n")
    assert math.isclose(slope, float(exact), rel_tol=1e-13)

    print(f"Example 2.2's table at x = {X0}: ans′ and ans at the start of each iteration")
    print(f"{'iteration':>9}  {'ans′ (generated)':>20}  {'d ans/dx (sympy)':>20}  {'ans':>20}   symbolic ans")
    for k in range(1, 5):
        for i in range(k + 1):  # at the start of iteration i + 1: after i iterations, as for k = i
            ans, d_ans = prod(X0, i), d_prod(X0, i)
            symbolic = sp.Mul(*fs[:i])
            expected = float(sp.diff(symbolic, x).subs(x, X0))
            assert math.isclose(ans, float(symbolic.subs(x, X0)), rel_tol=1e-14)
            assert math.isclose(d_ans, expected, rel_tol=1e-13, abs_tol=1e-15), (k, i, d_ans, expected)
            if k == 4:
                print(f"{i:>9}  {d_ans:>20.15f}  {expected:>20.15f}  {ans:>20.15f}   {symbolic}")
    print("\nans′ = d ans/dx at the start of every iteration, k = 1..4")


if __name__ == "__main__":
    main()
