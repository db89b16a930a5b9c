"""Small classification data sets for training circuits: XOR, Fisher's iris, the 8×8 digits.

Every loader returns a :class:`Dataset`: a float feature matrix ``X`` (one row
per sample), integer class labels ``y`` and the class names.  ``one_hot`` gives
the target vectors v of the training circuit, ``split`` a seeded train/test
split, ``standardized`` features scaled with the training set's statistics.

* :func:`xor` — the four points of exclusive or.
* :func:`iris` — Fisher's iris (1936), 150 flowers, 4 measurements in cm,
  3 species; public domain, shipped with pathad as ``pathad/data/iris.csv``.
* :func:`digits` — the 1797 8×8 handwritten digits (UCI), read from
  scikit-learn, which ships them inside its package (the optional extra
  ``pathad[digits]``).

Examples
--------
>>> data = iris()
>>> data.X.shape, data.counts()
((150, 4), {'setosa': 50, 'versicolor': 50, 'virginica': 50})
>>> train, test = data.split(30, seed=0)
>>> len(train), len(test)
(120, 30)
"""

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .errors import DataError, MissingDependencyError

__all__ = ["Dataset", "check_data", "xor", "iris", "digits", "load", "LOADERS"]


@dataclass(frozen=True)
class Dataset:
    """Samples ``X`` (n × d floats) with class labels ``y`` (n ints indexing ``classes``).

    Attributes
    ----------
    name : str
    X : numpy.ndarray
        One row per sample.
    y : numpy.ndarray
        The class of each row, 0 .. len(classes) - 1.
    classes : tuple of str
    features : tuple of str

    Examples
    --------
    >>> data = xor()
    >>> data.one_hot().tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: tuple
    features: tuple

    def __post_init__(self):
        check_data(self.X, self.y, where=self.name)

    def __len__(self):
        return len(self.y)

    def __repr__(self):
        return f"Dataset({self.name!r}: {len(self)} samples, {self.X.shape[1]} features, {len(self.classes)} classes)"

    def counts(self):
        """Class name -> number of samples."""
        return {name: int(np.sum(self.y == k)) for k, name in enumerate(self.classes)}

    def one_hot(self):
        """The targets v: row i is 1 at column y[i], 0 elsewhere."""
        return np.eye(len(self.classes))[self.y]

    def subset(self, rows, suffix=""):
        """The samples at ``rows`` (indices), as a Dataset named ``name + suffix``."""
        rows = np.asarray(rows, dtype=int)
        return Dataset(self.name + suffix, self.X[rows], self.y[rows], self.classes, self.features)

    def split(self, n_test, *, seed=0):
        """(train, test): ``n_test`` samples drawn at random with ``seed`` for testing, the rest for training.

        Examples
        --------
        >>> train, test = iris().split(30, seed=1)
        >>> len(train), sorted(set(test.y.tolist()))
        (120, [0, 1, 2])
        """
        if not 0 < n_test < len(self):
            raise ValueError(f"n_test must be between 1 and {len(self) - 1} for {self.name}, got {n_test}")
        order = np.random.default_rng(seed).permutation(len(self))
        return self.subset(np.sort(order[n_test:]), "/train"), self.subset(np.sort(order[:n_test]), "/test")

    def standardized(self, reference=None):
        """Features shifted and scaled to mean 0, standard deviation 1 over ``reference`` (default: self).

        Scale a test set with its training set's statistics: ``test.standardized(train)``.
        Constant features are only shifted.

        Examples
        --------
        >>> data = iris().standardized()
        >>> np.allclose(data.X.mean(axis=0), 0), np.allclose(data.X.std(axis=0), 1)
        (True, True)
        """
        reference = self if reference is None else reference
        mean, std = reference.X.mean(axis=0), reference.X.std(axis=0)
        scaled = (self.X - mean) / np.where(std > 0, std, 1.0)
        return Dataset(self.name, scaled, self.y, self.classes, self.features)


def check_data(X, y, *, where="data"):
    """Raise :class:`DataError` unless ``X`` (n × d) and ``y`` (n rows) are finite and of matching length.

    ``y`` may be labels (n,) or target vectors (n × k).

    Examples
    --------
    >>> check_data(np.zeros((3, 2)), np.zeros(2))
    Traceback (most recent call last):
    ...
    pathad.errors.DataError: data: 3 samples in X but 2 targets
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise DataError(f"{where}: X must be a matrix (one row per sample), got shape {X.shape}")
    if len(X) != len(y):
        raise DataError(f"{where}: {len(X)} samples in X but {len(y)} targets")
    for array, name in ((X, "X"), (y, "targets")):
        bad = np.argwhere(~np.isfinite(np.asarray(array, dtype=float)))
        if len(bad):
            index = tuple(int(i) for i in bad[0])
            raise DataError(
                f"{where}: {name} has {len(bad)} non-finite value(s); the first is {name}{list(index)} = "
                f"{array[index].item()!r} (row {index[0]})"
            )


def xor():
    """Exclusive or: the four points of {0, 1}², class 1 where exactly one input is 1.

    Examples
    --------
    >>> xor().y.tolist()
    [0, 1, 1, 0]
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return Dataset("xor", X, np.array([0, 1, 1, 0]), ("0", "1"), ("x1", "x2"))


#: The columns of the shipped iris.csv.
IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def iris():
    """Fisher's iris data: 150 flowers (50 of each species), 4 measurements in cm.

    Read from ``pathad/data/iris.csv`` (public domain; the values of Fisher 1936,
    which also correct two rows of the old UCI copy: sample 35 is 4.9, 3.1, 1.5, 0.2
    and sample 38 is 4.9, 3.6, 1.4, 0.1).

    Examples
    --------
    >>> data = iris()
    >>> data.X[0].tolist(), data.classes[data.y[0]]
    ([5.1, 3.5, 1.4, 0.2], 'setosa')
    >>> round(float(data.X[:, 0].mean()), 3), round(float(data.X[:, 2].mean()), 3)
    (5.843, 3.758)
    """
    text = resources.files(__package__).joinpath("data", "iris.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    classes = tuple(dict.fromkeys(row["species"] for row in rows))
    X = np.array([[float(row[name]) for name in IRIS_FEATURES] for row in rows])
    y = np.array([classes.index(row["species"]) for row in rows])
    return Dataset("iris", X, y, classes, IRIS_FEATURES)


def digits():
    """The 8×8 handwritten digits: 1797 images, 64 pixels scaled from 0..16 to 0..1, classes 0-9.

    Needs scikit-learn (``pip install 'pathad[digits]'``), which ships the data;
    nothing is downloaded.

    Examples
    --------
    >>> data = digits()  # doctest: +SKIP
    >>> data.X.shape, len(data.classes)  # doctest: +SKIP
    ((1797, 64), 10)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDependencyError(
            "the digits data set is read from scikit-learn: pip install 'pathad[digits]' (or scikit-learn)"
        ) from None
    raw = load_digits()
    features = tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    return Dataset("digits", raw.data / 16.0, raw.target.astype(int), tuple(map(str, range(10))), features)


#: Data set name -> loader.
LOADERS = {"xor": xor, "iris": iris, "digits": digits}


def load(name):
    """The data set called ``name`` ("xor", "iris" or "digits").

    Examples
    --------
    >>> load("xor")
    Dataset('xor': 4 samples, 2 features, 2 classes)
    """
    try:
        loader = LOADERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"no data set {name!r}; the data sets are {', '.join(LOADERS)}") from None
    return loader()
