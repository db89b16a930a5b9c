"""The ``pathad`` command.

``pathad tour`` traces the lecture's running example h(x, y) = (x + 4y)·((x + y)·y)
at x = 3, y = 5 and prints its value and both partials by both sweeps.
``pathad figures --out figures/`` regenerates every figure pathad reproduces.
"""

import argparse
import sys

__all__ = ["main", "tour", "figures"]


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


def figures(out, names=None, formats=("svg", "png"), stream=None):
    """Write the reproduced figures into ``out``, one line per file (see :mod:`pathad.figures`).

    Examples
    --------
    >>> figures("figures")  # doctest: +SKIP
    wrote figures/fig2a.svg
    ...
    """
    from .figures import make_figures

    stream = stream or sys.stdout
    make_figures(out, names=names, formats=formats, log=lambda line: print(line, file=stream))


def main(argv=None):
    """Entry point of the ``pathad`` console script."""
    parser = argparse.ArgumentParser(
        prog="pathad",
        description="Automatic differentiation as a path problem on a computation graph.",
        epilog=(
            "examples:\n  pathad tour                    trace h(x,y) at (3,5) and print its partials both ways"
            "\n  pathad figures --out figures/  redraw the lecture's figures as svg and png"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("tour", help="the lecture's running example, both sweeps")
    _add_figures_parser(commands)
    args = parser.parse_args(argv)
    if args.command in (None, "tour"):
        tour()
    elif args.command == "figures":
        from .errors import PathadError

        try:
            figures(args.out, names=args.only, formats=tuple(args.format or ("svg", "png")))
        except PathadError as exc:  # no renderer for a format, or the renderer failed
            print(f"pathad figures: {exc}", file=sys.stderr)
            return 1
    return 0


def _add_figures_parser(commands):
    from .figures import FIGURES

    sub = commands.add_parser("figures", help="write the reproduced figures (svg and png) into a directory")
    sub.add_argument("--out", default="figures", help="directory to write into (default: figures)")
    sub.add_argument(
        "--only",
        nargs="+",
        choices=list(FIGURES),
        metavar="NAME",
        help=f"just these figures: {', '.join(FIGURES)}",
    )
    sub.add_argument(
        "--format",
        action="append",
        choices=["svg", "png", "jpeg", "pdf", "dot"],
        help="a format to write (repeatable; default: svg and png; pdf needs Graphviz's dot)",
    )


if __name__ == "__main__":
    sys.exit(main())
