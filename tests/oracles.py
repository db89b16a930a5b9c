"""Independent references the tests compare pathad against (written without pathad's rules)."""

import cmath

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
