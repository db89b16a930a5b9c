"""The package ships what it reads at run time: its data files, py.typed and the license."""

import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pathad"


def data_files():
    """Every file of the package that is not Python source: what the wheel must carry besides the code."""
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    )


def test_the_installed_package_has_its_data_files():
    files = resources.files("pathad")
    for name in ("py.typed", "data/iris.csv", "data/animation.html"):
        assert files.joinpath(name).is_file(), name
    assert files.joinpath("data/iris.csv").read_text(encoding="utf-8").count("\n") > 150


@pytest.mark.slow  # builds a wheel in an isolated environment (half a minute); .ci/run runs it
def test_the_wheel_ships_the_data_files_py_typed_and_the_license(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)], check=True
    )
    (wheel,) = tmp_path.glob("pathad-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")}
    assert "pathad/py.typed" in data_files() and "pathad/data/iris.csv" in data_files()
    assert set(data_files()) <= names
    assert sources <= names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
