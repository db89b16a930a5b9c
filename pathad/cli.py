"""The ``pathad`` command.

``pathad tour`` traces the lecture's running example h(x, y) = (x + 4y)·((x + y)·y)
at x = 3, y = 5 and prints its value and both partials by both sweeps.
"""

import argparse
import sys

__all__ = ["main", "tour"]


def _h(x, y):
    return (x + 4 * y) * ((x + y) * y)


def tour(out=None):
    """Print the value of h(3, 5) and its partials, forward and backward.

    Examples
    --------
    >>> tour()  # doctest: +ELLIPSIS
    h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5
    value: 920
    ...
    """
    from . import fold_linear, gradient, trace

    out = out or sys.stdout
    tr = trace(_h, x=3.0, y=5.0)
    graph = fold_linear(tr)
    print("h(x, y) = (x + 4y)·((x + y)·y) at x = 3, y = 5", file=out)
    print(f"value: {tr.value:g}", file=out)
    print(
        f"graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges "
        "(each edge carries its local partial)",
        file=out,
    )
    for mode, sweeps in (("forward", "one sweep per input"), ("backward", "one sweep for all inputs")):
        grad = gradient(tr, mode=mode)
        parts = ", ".join(f"∂h/∂{name} = {value:g}" for name, value in grad.items())
        print(f"{mode:>8} ({sweeps}): {parts}", file=out)


def main(argv=None):
    """Entry point of the ``pathad`` console script."""
    parser = argparse.ArgumentParser(
        prog="pathad",
        description="Automatic differentiation as a path problem on a computation graph.",
        epilog="example:\n  pathad tour    trace h(x,y) at (3,5) and print its partials both ways",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("tour", help="the lecture's running example, both sweeps")
    args = parser.parse_args(argv)
    if args.command in (None, "tour"):
        tour()
    return 0


if __name__ == "__main__":
    sys.exit(main())
