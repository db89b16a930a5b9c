"""The lecture's Fig. 3 as animations: h's four sweeps, one page each, and a screenshot of each at its end.

Run:  python examples/animate_h.py [OUT]    (OUT: a folder, default the current one; figures/ holds the
      pages and screenshots it wrote; screenshots need playwright and chromium)

Each page steps through the sweep the solver runs: open it in a browser and press → (or play).
"""

import sys
from pathlib import Path

import pathad


def h(x, y):
    return (x + 4 * y) * ((x + y) * y)


#: Fig. 3(a)-(d): ∂h/∂x and ∂h/∂y, each by a forward and by a backward sweep.
SWEEPS = {
    "sweep3a": dict(start="x", direction="forward"),
    "sweep3b": dict(direction="backward", targets="x"),
    "sweep3c": dict(start="y", direction="forward"),
    "sweep3d": dict(direction="backward", targets="y"),
}


def main(out="."):
    tr = pathad.trace(h, x=3.0, y=5.0)
    for name, sweep in SWEEPS.items():
        movie = pathad.animate(tr, fold=True, title=f"h(x, y) at (3, 5): {name[-1]}) {sweep['direction']}", **sweep)
        page = movie.save(Path(out) / f"{name}.html")
        print(f"{page}: {len(movie)} steps, {movie.answer}")
        try:
            print("  ", movie.screenshot(Path(out) / f"{name}.png"))
        except pathad.MissingDependencyError as missing:
            print("   no screenshot:", missing)


if __name__ == "__main__":
    main(*sys.argv[1:])
