"""The README's commands and examples are the ones that work."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shell_blocks():
    return re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = next(b.strip() for b in shell_blocks() if "pytest" in b)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_python_example_runs_and_gives_the_values_in_its_comments():
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        expected = re.match(r"(\{.*?\}|-?[\d.]+)(:|$)", comment)
        if expected and not line.startswith(" ") and "=" not in code.split("(")[0]:
            assert repr(eval(code, namespace)) == expected.group(1), code
            checked += 1
    assert checked == 3


def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write h.png, h.json, ...
    namespace = {}
    for block in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S):
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "h.json").exists() and (tmp_path / "h.png").exists()
