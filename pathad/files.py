"""Writing files safely: every file pathad writes goes through :func:`write_atomically`."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["write_atomically", "replacing"]


def write_atomically(path, data):
    """Write the bytes ``data`` to ``path`` so that no reader ever sees a half-written file.

    The bytes go to a temporary file in the same directory, which then replaces
    ``path`` in one step (``os.replace``); on any error the temporary file is
    removed and ``path`` is left as it was.  The new file gets the mode of the
    file it replaces, or an ordinary new file's mode.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "note.txt"
    ...     write_atomically(target, b"hello")
    ...     target.read_bytes(), sorted(p.name for p in Path(folder).iterdir())
    (b'hello', ['note.txt'])
    """
    with replacing(path, "wb") as file:
        file.write(data)


@contextmanager
def replacing(path, mode="w"):
    """A file that replaces ``path`` when the block ends without an error: :func:`write_atomically` for a
    document written piece by piece (text mode writes UTF-8, newlines as given).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with replacing(Path(folder) / "a.txt") as file:
    ...         _ = file.write("one "), file.write("two")
    ...     (Path(folder) / "a.txt").read_text()
    'one two'
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: the directory {str(path.parent)!r} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(handle, mode, **text) as file:
            yield file
        os.chmod(temporary, _file_mode(path))  # mkstemp makes it private; give it an ordinary file's mode
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _file_mode(path):
    """The mode of the file being replaced, else what the umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# --- renderers -------------------------------------------------------------------
