"""Surrogate models of the completed trials: a mean and a spread per
candidate, deterministic under a seed.

- `"gp"`: a Gaussian process, exact, with a squared-exponential kernel on
  the standardized features. On one-hot positions that is a kernel of the
  Hamming distance between two op sequences, so near neighbours of a good
  trial are predicted good, interactions between positions included; its
  posterior standard deviation grows with the distance to every trial.
  The length scale and the noise are picked from a small grid by the
  marginal likelihood, at every fit: no optimizer, no random start.
- `"ridge"`: bootstrapped ridge regressions in closed form, additive in
  the features; the members' spread is the uncertainty.
- `"trees"`: the trees of a scikit-learn extra-trees forest.

`make(kind, members, seed)` returns an unfitted model; `fit(x, y)` then
`predict(x) -> (mean, spread)`.
"""

import functools

import numpy as np

__all__ = ["KINDS", "make"]

#: The surrogates `make` knows.
KINDS = ("gp", "ridge", "trees")

# Up to this many features, ridge solves its features-by-features system.
_PRIMAL_FEATURES = 64

# The Gaussian process's grid: length scales (in units of the root mean
# square distance of standardized features) and noise variances (of the
# standardized targets).
_LENGTH_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
_NOISES = (1e-3, 1e-2, 1e-1, 0.3)
# Above this many trials the process is fitted on the best half and the
# most recent half of this many: an exact fit grows with the cube.
_GP_MAX_TRIALS = 400


def make(kind, members, seed):
    """An unfitted surrogate of `kind` (one of `KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}. Received: "
                         f"kind={kind!r}.")
    if kind == "gp":
        return GaussianProcess()
    return Ensemble(kind, members, seed)


class _Standardized:
    """Features centred and scaled as in the training set."""

    def _set_scale(self, x):
        self.scale = x.std(axis=0) + 1e-9
        self.offset = x.mean(axis=0)

    def _standardize(self, x):
        return (np.asarray(x, dtype=float) - self.offset) / self.scale


class GaussianProcess(_Standardized):
    """An exact Gaussian process with a squared-exponential kernel, its
    length scale and noise picked from a grid by the marginal likelihood.
    Has no randomness: the same trials give the same predictions."""

    def fit(self, x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if len(y) > _GP_MAX_TRIALS:
            half = _GP_MAX_TRIALS // 2
            best = np.argsort(-y, kind="stable")[:half]
            recent = np.setdiff1d(np.arange(len(y) - half, len(y)), best)
            keep = np.sort(np.concatenate([best, recent]))
            x, y = x[keep], y[keep]
        self._set_scale(x)
        x = self._standardize(x)
        self.y_mean, self.y_scale = float(y.mean()), float(y.std()) + 1e-12
        target = (y - self.y_mean) / self.y_scale
        self.width = max(x.shape[1], 1)
        distances = _squared_distances(x, x) / self.width
        best = None
        with _one_thread():
            for length in _LENGTH_SCALES:
                kernel = np.exp(-distances / (2 * length * length))
                for noise in _NOISES:
                    try:
                        chol = np.linalg.cholesky(
                            kernel + noise * np.eye(len(y)))
                    except np.linalg.LinAlgError:
                        continue
                    alpha = _cho_solve(chol, target)
                    likelihood = (-0.5 * target @ alpha
                                  - np.log(np.diag(chol)).sum())
                    if best is None or likelihood > best[0]:
                        best = (likelihood, length, noise, chol, alpha)
        _, self.length, self.noise, self.chol, self.alpha = best
        self.x = x
        return self

    def predict(self, x):
        z = self._standardize(x)
        with _one_thread():
            cross = np.exp(-_squared_distances(z, self.x)
                           / (self.width * 2 * self.length ** 2))
            mean = cross @ self.alpha
            v = _lower_solve(self.chol, cross.T)
        variance = np.clip(1.0 - (v * v).sum(axis=0), 1e-12, None)
        return (self.y_mean + self.y_scale * mean,
                self.y_scale * np.sqrt(variance))


class Ensemble(_Standardized):
    """Members' mean and spread; deterministic under `seed`."""

    def __init__(self, kind, members, seed):
        self.kind, self.members, self.seed = kind, members, seed

    def fit(self, x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self._set_scale(x)
        x = self._standardize(x)
        if self.kind == "trees":
            from sklearn.ensemble import ExtraTreesRegressor

            self.model = ExtraTreesRegressor(
                n_estimators=self.members, min_samples_leaf=2,
                random_state=self.seed).fit(x, y)
            return self
        # Ridge regressions (alpha 1, the intercept next to unpenalised) in
        # closed form, on one BLAS thread: scikit-learn's per-call overhead,
        # or BLAS threads fighting over matrices this small, would be most
        # of the cost. With more features than trials, the same solution
        # through the push-through identity (a'a + D)^-1 a' =
        # D^-1 a' (a D^-1 a' + I)^-1, a trials-by-trials system.
        rng = np.random.default_rng(self.seed)
        x1 = np.hstack([x, np.ones((len(x), 1))])
        penalty = np.ones(x1.shape[1])
        penalty[-1] = 1e-6
        self.model = []
        with _one_thread():
            for _ in range(self.members):
                pick = rng.integers(len(y), size=len(y))
                a, b = x1[pick], y[pick]
                if a.shape[1] <= _PRIMAL_FEATURES or len(a) >= a.shape[1]:
                    w = np.linalg.solve(a.T @ a + np.diag(penalty), a.T @ b)
                else:
                    scaled = a / penalty
                    w = scaled.T @ np.linalg.solve(
                        scaled @ a.T + np.eye(len(a)), b)
                self.model.append(w)
        self.model = np.array(self.model)
        return self

    def predict(self, x):
        x = self._standardize(x)
        if self.kind == "trees":
            each = np.array([m.predict(x) for m in self.model.estimators_])
        else:
            with _one_thread():
                each = self.model @ np.hstack([x, np.ones((len(x), 1))]).T
        return each.mean(axis=0), each.std(axis=0)


def _squared_distances(a, b):
    return np.clip((a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :]
                   - 2.0 * a @ b.T, 0.0, None)


def _lower_solve(chol, b):
    from scipy.linalg import solve_triangular  # A scikit-learn dependency.

    return solve_triangular(chol, b, lower=True)


def _cho_solve(chol, b):
    from scipy.linalg import cho_solve

    return cho_solve((chol, True), b)


def _one_thread():
    """A context in which the BLAS uses one thread."""
    controller = _controller()
    if controller is None:  # threadpoolctl before 3.0: find them each time.
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    return controller.limit(limits=1)


@functools.cache
def _controller():
    """The process's BLAS libraries, found once (a
    `threadpoolctl.ThreadpoolController`, or `None` before threadpoolctl
    3.0): finding them reads the process's memory map, 6 ms, more than a
    small fit. SciPy's own BLAS, which the Gaussian process's solves use,
    is loaded first, so that it is among them."""
    import scipy.linalg  # noqa: F401  Both are scikit-learn dependencies.
    import threadpoolctl

    if not hasattr(threadpoolctl, "ThreadpoolController"):
        return None
    return threadpoolctl.ThreadpoolController()
