"""Independent references the tests compare pathad against (written without pathad's rules)."""

import cmath
import math
import random

from pathad.primitives import PRIMITIVES

#: Complex-analytic versions of the smooth primitives, for the complex step f'(x) = Im f(x + ih) / h.
COMPLEX = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: cmath.exp(y * cmath.log(x)),
    "neg": lambda x: -x,
    "exp": cmath.exp,
    "log": cmath.log,
    "sqrt": cmath.sqrt,
    "sin": cmath.sin,
    "cos": cmath.cos,
    "tan": cmath.tan,
    "tanh": cmath.tanh,
    "sigmoid": lambda x: 1 / (1 + cmath.exp(-x)),
}

#: The unary ones, by name.
COMPLEX_UNARY = {
    name: COMPLEX[name] for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid")
}


#: Where each primitive is smooth and defined: (low, high) per operand.
DOMAINS = {
    "div": [(-3, 3), (0.5, 3)],
    "pow": [(0.2, 3), (-2, 2)],
    "mod": [(-5, 5), (0.3, 2)],
    "floor_divide": [(-5, 5), (0.3, 2)],
    "fmod": [(-5, 5), (0.3, 2)],
    "round": [(-5, 5), (2, 2)],
    "heaviside": [(-2, 2), (-1, 1)],
    "log": [(0.1, 5)],
    "sqrt": [(0.1, 5)],
    "log2": [(0.1, 5)],
    "log10": [(0.1, 5)],
    "log1p": [(-0.9, 5)],
    "arcsin": [(-0.95, 0.95)],
    "arccos": [(-0.95, 0.95)],
    "arctanh": [(-0.95, 0.95)],
    "arccosh": [(1.05, 5)],
    "reciprocal": [(0.2, 3)],
    "cbrt": [(0.2, 3)],
    "tan": [(-1.2, 1.2)],
}

def sample_points(name, count=6, seed=0):
    rng = random.Random(f"{name}-{seed}")
    domain = DOMAINS.get(name, [(-2, 2)] * PRIMITIVES[name].arity)
    points = []
    while len(points) < count:
        point = [round(rng.uniform(lo, hi), 3) for lo, hi in domain]
        if name == "round":
            point[1] = 2.0
        if not near_kink(name, point):
            points.append(point)
    return points


def near_kink(name, point):
    a = point[0]
    if name in ("abs", "relu", "sign", "heaviside", "copysign"):
        return abs(a) < 0.05 or (name == "copysign" and abs(point[1]) < 0.05)
    if name in ("maximum", "minimum"):
        return abs(point[0] - point[1]) < 0.05
    if name in ("floor", "ceil", "trunc", "rint", "round"):
        scaled = a * (100 if name == "round" else 1)
        return abs(scaled - round(scaled)) < 0.05 or abs(abs(scaled - math.floor(scaled)) - 0.5) < 0.05
    if name in ("mod", "floor_divide", "fmod"):
        q = a / point[1]
        return abs(q - round(q)) < 0.05
    return False




def complex_gradient(f, point, h=1e-30):
    """∂f/∂point[i] for every i by the complex step: f(point + i·h·e_i).imag / h, f written on complex numbers."""
    found = []
    for i in range(len(point)):
        z = [complex(p) for p in point]
        z[i] += 1j * h
        found.append(f(*z).imag / h)
    return found
