"""Variants of the default local search on the NAS-Bench-201 table, fast.

A plain re-implementation, outside Keras Tuner's oracles, of what `"auto"` does on
the table (`nasbench201.py`'s `local-ridge`: the best of 10 random starts,
one-op neighbours in random order then by the upper confidence bound of 20
bootstrapped ridge regressions on one-hot positions and op counts, pruned
0.1 s.d. below the incumbent, first improvement, a random restart at a
local optimum), so that changes to it can be screened on 300 seeds in a
minute. Its figures are not those of `nasbench201.py` (other random
streams), only within noise of them; what a screen finds is checked
there, through the real oracle, before it goes into the package.

    python benchmarks/nb201_variants.py ../shared/data/nasbench201/nb201.csv \\
        --seeds 300 --variants '[{}, {"dynamic": true}, {"kick": 2}]'

Options of a variant (JSON): `kappa`, `alpha` (ridge), `prune` (`null`:
none), `start`, `dynamic` (re-rank what is left after each evaluation),
`kick` (restart from the best so far with that many ops changed;
`kickpred`: the predictor's best of 200 such), `hop2` (neighbours two ops
away too, ranked by the predictor), `global` (no local search: train the
predictor's best of all untried architectures each step), `tie` (which
of the trials tied on the best validation accuracy is returned: `first`,
the default, `largest` or `smallest` in parameters), `balanced` (each
start a random balanced design: every op as often as the others at every
position), `spread` (each start candidate the one of that many random
ones whose ops repeat the start's least, as `balanced_start` does),
`jump` (after each start, train the ridge's best of the whole table;
`jump_kappa`: the weight of its spread, 0 by default).
"""

import argparse
import json
import multiprocessing

import numpy as np

from nasbench201 import DATASETS, OPS, load_table

TABLE, ALL, FEATURES = {}, [], None


def load(path):
    """`nasbench201.load_table`, keyed by op indices, with every
    architecture's features."""
    global ALL, FEATURES
    TABLE.update({tuple(OPS.index(o) for o in key): row
                  for key, row in load_table(path).items()})
    ALL = list(TABLE)
    FEATURES = np.array([encode(k) for k in ALL])


def encode(k):
    f = np.zeros(35)
    f[[i * 5 + k[i] for i in range(6)]] = 1
    f[30:] = np.bincount(k, minlength=5)
    return f


def neighbours(k):
    return [k[:i] + (o,) + k[i + 1:] for i in range(6) for o in range(5)
            if o != k[i]]


def perturb(k, n, rng):
    k = list(k)
    for i in rng.choice(6, n, replace=False):
        k[i] = int(rng.choice([o for o in range(5) if o != k[i]]))
    return tuple(k)


def fit(x, y, rng, members=20, alpha=1.0):
    """Bootstrapped ridge regressions: a function of features giving the
    members' mean and spread."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    x1 = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    penalty = np.full(x1.shape[1], alpha)
    penalty[-1] = 1e-6
    w = []
    for _ in range(members):
        pick = rng.integers(len(y), size=len(y))
        a, b = x1[pick], y[pick]
        w.append(np.linalg.solve(a.T @ a + np.diag(penalty), a.T @ b))
    w = np.array(w)

    def predict(z):
        each = w @ np.hstack([(z - mu) / sd, np.ones((len(z), 1))]).T
        return each.mean(0), each.std(0)
    return predict


class Search:
    def __init__(self, dataset, seed, cfg, budget):
        self.d, self.cfg, self.budget = dataset, cfg, budget
        self.rng = np.random.default_rng(seed)
        self.seen, self.order = {}, []

    def full(self):
        return len(self.order) >= self.budget

    def evaluate(self, k):
        self.seen[k] = TABLE[k][self.d][0]
        self.order.append(k)

    def random(self):
        while True:
            k = ALL[self.rng.integers(len(ALL))]
            if k not in self.seen:
                return k

    def ucb(self, cands):
        x = np.array([encode(k) for k in self.order])
        y = np.array([self.seen[k] for k in self.order])
        predict = fit(x, y, self.rng, alpha=self.cfg.get("alpha", 1.0))
        mean, spread = predict(np.array([encode(k) for k in cands]))
        return mean + self.cfg.get("kappa", 1.0) * spread, y

    def rank(self, cands, incumbent):
        if len(self.order) < 10 or not cands:
            return cands
        score, y = self.ucb(cands)
        ranked = np.argsort(-score, kind="stable")
        prune = self.cfg.get("prune", 0.1)
        if prune is not None:
            floor = self.seen[incumbent] - prune * y.std()
            ranked = [i for n, i in enumerate(ranked)
                      if n == 0 or score[i] >= floor]
        return [cands[i] for i in ranked]

    def balanced(self, size):
        """`size` architectures in which each op is as frequent as the
        others at every position (a random balanced design)."""
        columns = [self.rng.permutation(np.resize(np.arange(5), size))
                   for _ in range(6)]
        return [tuple(int(c[r]) for c in columns) for r in range(size)]

    def spread(self, picks, draws):
        """Of `draws` random untried architectures, the one whose ops
        repeat those of `picks` at their positions least."""
        counts = np.zeros((6, 5))
        for k in picks:
            counts[range(6), k] += 1
        cands = [self.random() for _ in range(draws)]
        overlap = [counts[range(6), k].sum() for k in cands]
        return cands[int(np.argmin(overlap))]

    def start(self, restarts):
        kick = self.cfg.get("kick")
        if not restarts or kick is None:
            picks = []
            size = self.cfg.get("start", 10)
            design = self.balanced(size) if self.cfg.get("balanced") else []
            for _ in range(size):
                if self.full():
                    break
                k = design.pop() if design else None
                if self.cfg.get("spread"):
                    k = self.spread(picks, self.cfg["spread"])
                picks.append(k if k is not None and k not in self.seen
                             else self.random())
                self.evaluate(picks[-1])
            if self.cfg.get("jump") and len(self.order) >= 10 and (
                    not self.full()):
                index = {k: i for i, k in enumerate(ALL)}
                x = FEATURES[[index[k] for k in self.order]]
                y = np.array([self.seen[k] for k in self.order])
                mean, spread = fit(x, y, self.rng)(FEATURES)
                score = mean + self.cfg.get("jump_kappa", 0.0) * spread
                for i in np.argsort(-score):
                    if ALL[i] not in self.seen:
                        picks.append(ALL[i])
                        self.evaluate(ALL[i])
                        break
            return picks
        best = max(self.order, key=self.seen.get)
        cands = list({perturb(best, kick, self.rng) for _ in range(200)}
                     - set(self.seen)) or [self.random()]
        if self.cfg.get("kickpred"):
            pick = cands[int(np.argmax(self.ucb(cands)[0]))]
        else:
            pick = cands[self.rng.integers(len(cands))]
        self.evaluate(pick)
        return [pick]

    def run(self):
        if self.cfg.get("global"):
            return self.run_global()
        restarts = 0
        while not self.full():
            picks = self.start(restarts)
            if self.full():
                break
            incumbent = max(picks, key=self.seen.get)
            moved = True
            while moved and not self.full():
                cands = [n for n in neighbours(incumbent) if n not in self.seen]
                if self.cfg.get("hop2"):
                    near = set(cands)
                    cands += sorted({m for n in neighbours(incumbent)
                                     for m in neighbours(n)}
                                    - near - set(self.seen) - {incumbent})
                self.rng.shuffle(cands)
                cands, moved = self.rank(cands, incumbent), False
                while cands and not self.full():
                    k = cands.pop(0)
                    self.evaluate(k)
                    if self.seen[k] > self.seen[incumbent]:
                        incumbent, moved = k, True
                        break
                    if self.cfg.get("dynamic"):
                        cands = self.rank(cands, incumbent)
            restarts += 1
        return self.order

    def run_global(self):
        for _ in range(10):
            self.evaluate(self.random())
        index = {k: i for i, k in enumerate(ALL)}
        while not self.full():
            x = FEATURES[[index[k] for k in self.order]]
            y = np.array([self.seen[k] for k in self.order])
            mean, spread = fit(x, y, self.rng)(FEATURES)
            for i in np.argsort(-(mean + spread)):
                if ALL[i] not in self.seen:
                    self.evaluate(ALL[i])
                    break
        return self.order


def one(job):
    dataset, seed, cfg, budgets = job
    order = Search(dataset, seed, cfg, max(budgets)).run()
    chosen, tie = {}, cfg.get("tie", "first")
    for b in budgets:  # The best validation accuracy; among ties, `tie`.
        first = order[:b]
        top = max(TABLE[k][dataset][0] for k in first)
        tied = [k for k in first if TABLE[k][dataset][0] == top]
        if tie == "first":
            pick = tied[0]
        else:  # Parameters of the cell: a 3x3 conv 9 C^2, a 1x1 conv C^2.
            size = {k: 9 * k.count(OPS.index("nor_conv_3x3"))
                    + k.count(OPS.index("nor_conv_1x1")) for k in tied}
            pick = (max if tie == "largest" else min)(tied, key=size.get)
        chosen[b] = TABLE[pick][dataset][1]
    return dataset, chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("table")
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--variants", default="[{}]")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    load(args.table)
    for cfg in json.loads(args.variants):
        jobs = [(d, s, cfg, args.budgets) for d in DATASETS
                for s in range(args.seeds)]
        with multiprocessing.Pool(args.workers) as pool:  # Forked: the table is loaded.
            results = pool.map(one, jobs, chunksize=10)
        cells = []
        for d in DATASETS:
            for b in args.budgets:
                v = np.array([c[b] for dd, c in results if dd == d])
                cells.append(f"{d}@{b} {v.mean():.2f} ± "
                             f"{v.std(ddof=1) / np.sqrt(len(v)):.2f}")
        print(json.dumps(cfg), " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
