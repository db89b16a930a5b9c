"""pathad.datasets: the shipped iris CSV against Fisher's published facts, splits, scaling, bad data."""

import re
from importlib import resources

import numpy as np
import pytest

from pathad.datasets import DataError, Dataset, check_data, digits, iris, load, xor

# --- iris: the shipped file is Fisher's data ------------------------------------------------------


@pytest.fixture(scope="module")
def flowers():
    return iris()


def test_iris_has_150_rows_50_per_species(flowers):
    assert flowers.X.shape == (150, 4)
    assert flowers.counts() == {"setosa": 50, "versicolor": 50, "virginica": 50}
    assert flowers.y.tolist() == [0] * 50 + [1] * 50 + [2] * 50


def test_iris_means_and_standard_deviations_are_the_published_ones(flowers):
    # Fisher (1936) as tabulated everywhere: means 5.843 3.057 3.758 1.199, sds 0.828 0.436 1.765 0.762
    assert flowers.X.mean(axis=0).round(3).tolist() == [5.843, 3.057, 3.758, 1.199]
    assert flowers.X.std(axis=0, ddof=1).round(3).tolist() == [0.828, 0.436, 1.765, 0.762]


@pytest.mark.parametrize(
    "row, values",
    [
        (0, [5.1, 3.5, 1.4, 0.2]),  # the first flower
        (34, [4.9, 3.1, 1.5, 0.2]),  # sample 35 as Fisher printed it (the old UCI copy had 4.9 3.1 1.5 0.1)
        (37, [4.9, 3.6, 1.4, 0.1]),  # sample 38 likewise (UCI: 4.9 3.1 1.5 0.1)
        (50, [7.0, 3.2, 4.7, 1.4]),  # the first versicolor
        (100, [6.3, 3.3, 6.0, 2.5]),  # the first virginica
        (149, [5.9, 3.0, 5.1, 1.8]),  # the last flower
    ],
)
def test_iris_known_rows(flowers, row, values):
    assert flowers.X[row].tolist() == values


def test_iris_per_species_petal_length_means(flowers):
    means = [flowers.X[flowers.y == k, 2].mean() for k in range(3)]
    assert np.round(means, 3).tolist() == [1.462, 4.26, 5.552]


def test_iris_csv_ships_inside_the_package():
    text = resources.files("pathad").joinpath("data", "iris.csv").read_text()
    lines = text.strip().splitlines()
    assert lines[0] == "sepal_length,sepal_width,petal_length,petal_width,species"
    assert len(lines) == 151


def test_iris_matches_scikit_learn_copy_when_installed(flowers):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    theirs = sklearn_datasets.load_iris()
    assert np.array_equal(flowers.X, theirs.data)
    assert np.array_equal(flowers.y, theirs.target)


# --- xor, digits, load ---------------------------------------------------------------------------


def test_xor_is_exclusive_or():
    data = xor()
    assert [int(a) ^ int(b) for a, b in data.X] == data.y.tolist()


def test_digits_when_scikit_learn_is_installed():
    pytest.importorskip("sklearn")
    data = digits()
    assert data.X.shape == (1797, 64)
    assert 0.0 <= data.X.min() and data.X.max() == 1.0
    assert sorted(set(data.y.tolist())) == list(range(10))


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=re.escape("pip install 'pathad[digits]'")):
        digits()


def test_load_by_name_and_unknown_name():
    assert load("iris").name == "iris"
    with pytest.raises(ValueError, match="no data set 'mnist'; the data sets are xor, iris, digits"):
        load("mnist")


# --- split, standardized, one_hot ---------------------------------------------------------------


def test_split_is_seeded_disjoint_and_complete(flowers):
    train, test = flowers.split(30, seed=3)
    again, _ = flowers.split(30, seed=3)
    other, _ = flowers.split(30, seed=4)
    assert (len(train), len(test)) == (120, 30)
    assert np.array_equal(train.X, again.X)
    assert not np.array_equal(train.X, other.X)
    rows = {tuple(r) + (c,) for r, c in zip(flowers.X, flowers.y)}
    together = [tuple(r) + (c,) for d in (train, test) for r, c in zip(d.X, d.y)]
    assert sorted(together) == sorted(tuple(r) + (c,) for r, c in zip(flowers.X, flowers.y))
    assert set(together) == rows


@pytest.mark.parametrize("n_test", [0, 150, -1])
def test_split_rejects_impossible_sizes(flowers, n_test):
    with pytest.raises(ValueError, match="n_test must be between 1 and 149"):
        flowers.split(n_test)


def test_standardized_uses_the_reference_statistics(flowers):
    train, test = flowers.split(30, seed=0)
    scaled = test.standardized(train)
    expected = (test.X - train.X.mean(axis=0)) / train.X.std(axis=0)
    assert np.allclose(scaled.X, expected)
    assert np.allclose(train.standardized().X.mean(axis=0), 0.0)


def test_one_hot_rows():
    data = Dataset("d", np.zeros((3, 1)), np.array([2, 0, 1]), ("a", "b", "c"), ("f",))
    assert data.one_hot().tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


# --- bad data -----------------------------------------------------------------------------------


def test_nan_in_features_names_the_row():
    X = np.ones((4, 2))
    X[2, 1] = np.nan
    with pytest.raises(DataError, match=re.escape("X has 1 non-finite value(s); the first is X[2, 1] = nan (row 2)")):
        Dataset("bad", X, np.zeros(4, dtype=int), ("a",), ("f", "g"))


def test_inf_in_targets_names_the_row():
    with pytest.raises(DataError, match=re.escape("targets[1, 0] = inf (row 1)")):
        check_data(np.ones((2, 2)), np.array([[0.0], [np.inf]]), where="here")


def test_mismatched_sizes():
    with pytest.raises(DataError, match="here: 5 samples in X but 4 targets"):
        check_data(np.ones((5, 2)), np.zeros(4), where="here")


def test_features_must_be_a_matrix():
    with pytest.raises(DataError, match=re.escape("X must be a matrix (one row per sample), got shape (5,)")):
        check_data(np.ones(5), np.zeros(5))
