"""The surrogates of `strategies.surrogates`: the Gaussian process fits
what an additive model cannot, is deterministic, knows where it has seen
data, and stays cheap past its cap on trials."""

import itertools

import numpy as np
import pytest

from keras_nas.strategies import surrogates


def one_hot(sequences, values=4):
    """One-hot features by position of integer sequences."""
    out = np.zeros((len(sequences), len(sequences[0]) * values))
    for row, seq in enumerate(sequences):
        for i, v in enumerate(seq):
            out[row, i * values + v] = 1.0
    return out


def interacting(seq):
    # Good where the first two positions agree: no additive model ranks it.
    return float(seq[0] == seq[1]) + 0.1 * seq[2]


def split(seed=0, n_train=48):
    every = list(itertools.product(range(4), repeat=3))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(every))
    train = [every[i] for i in order[:n_train]]
    test = [every[i] for i in order[n_train:]]
    return train, test


def test_the_process_fits_interactions_the_ridge_cannot():
    train, test = split()
    x, y = one_hot(train), np.array([interacting(s) for s in train])
    truth = np.array([interacting(s) for s in test])
    fits = {}
    for kind in ("gp", "ridge"):
        model = surrogates.make(kind, 20, 0).fit(x, y)
        mean, spread = model.predict(one_hot(test))
        assert mean.shape == spread.shape == (len(test),)
        assert np.all(spread >= 0)
        fits[kind] = np.corrcoef(mean, truth)[0, 1]
    assert fits["gp"] > 0.7, fits
    assert fits["ridge"] < 0.5, fits


def test_the_process_is_deterministic_and_knows_what_it_has_seen():
    train, test = split(1)
    x, y = one_hot(train), np.array([interacting(s) for s in train])
    a = surrogates.make("gp", 20, 0).fit(x, y)
    b = surrogates.make("gp", 20, 99).fit(x, y)
    for got, want in zip(a.predict(one_hot(test)), b.predict(one_hot(test))):
        np.testing.assert_array_equal(got, want)
    # At a trial it has seen, the mean is near the value and the spread
    # small; far from every trial, the spread is larger.
    mean, spread = a.predict(x[:5])
    np.testing.assert_allclose(mean, y[:5], atol=0.1)
    far = one_hot([(0, 0, 0)]) * 0.0  # No value at any position.
    assert a.predict(far)[1][0] > spread.max()


def test_past_its_cap_it_fits_the_best_and_the_most_recent():
    rng = np.random.default_rng(0)
    n = surrogates._GP_MAX_TRIALS + 100
    seqs = [tuple(rng.integers(4, size=6)) for _ in range(n)]
    y = np.array([interacting(s) for s in seqs])
    model = surrogates.make("gp", 20, 0).fit(one_hot(seqs), y)
    assert len(model.x) <= surrogates._GP_MAX_TRIALS
    # The best trial is always among those kept.
    best = one_hot([seqs[int(np.argmax(y))]])
    assert model.predict(best)[0][0] == pytest.approx(y.max(), abs=0.15)


def test_kinds_and_unknown_kinds():
    assert surrogates.KINDS == ("gp", "ridge", "trees")
    assert isinstance(surrogates.make("trees", 5, 0), surrogates.Ensemble)
    assert isinstance(surrogates.make("gp", 5, 0),
                      surrogates.GaussianProcess)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        surrogates.make("svm", 5, 0)


def test_fits_run_on_one_blas_thread_and_leave_the_setting_as_it_was():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import scipy.linalg  # noqa: F401  The BLAS `_one_thread` loads first.

    def threads():
        # The BLAS libraries only: OpenMP (scikit-learn's trees) is loaded
        # or not depending on the tests run before in this process.
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    if not threads():
        pytest.skip("threadpoolctl finds no BLAS library in this process, "
                    "so there is no thread count for `_one_thread` to set")
    # Two threads outside, so that one inside is a change even on a
    # machine of one core, where the BLAS starts with one.
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = threads()
        if min(before) < 2:
            pytest.skip(f"the BLAS here takes no second thread ({before}), "
                        "so one thread would be no change")
        seen = []
        for _ in range(2):  # The second call reuses the libraries found.
            with surrogates._one_thread():
                seen.append(threads())
        assert seen == [[1] * len(before)] * 2
        assert threads() == before
        x, y = one_hot([(0, 1, 2), (1, 1, 0), (2, 0, 1)] * 4), np.arange(12.0)
        for kind in surrogates.KINDS:  # Each kind fits and predicts under it.
            mean, spread = surrogates.make(kind, 3, 0).fit(x, y).predict(x[:2])
            assert mean.shape == spread.shape == (2,)
        assert threads() == before
