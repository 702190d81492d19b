"""`SearchSpace`: an op vocabulary and a depth range, as Keras Tuner sees it.

A genotype is a list of op names, e.g. `["conv3x3-32", "maxpool",
"dense-128"]`. The space declares it as `keras_tuner.HyperParameters`: an
`Int` named `depth` and one `Choice` per position, `op_0` ... `op_{max-1}`,
where `op_i` is active only while `i < depth`. Any Keras Tuner oracle can
therefore propose genotypes, and `decode()` turns a trial's values back into
the op list.
"""

import keras_tuner

from keras_nas._checks import check_budget, check_int
from keras_nas import ops as ops_module
from keras_nas.space import architecture, genotype, sampling, vocabulary
from keras_nas.space.vocabulary import DEFAULT_LEARNING_RATES, KINDS

__all__ = ["SearchSpace", "DEFAULT_LEARNING_RATES", "is_architecture_key",
           "other_values", "KINDS"]


def is_architecture_key(name):
    """Whether a hyperparameter name is part of the op sequence (`depth`,
    `op_<i>`) rather than a training value such as the learning rate."""
    return name == "depth" or name.startswith("op_")


def other_values(values):
    """The values of a trial other than its op sequence."""
    return {k: v for k, v in values.items() if not is_architecture_key(k)}


class SearchSpace:
    """The space of op sequences a search may propose.

    Args:
        ops: `None` for the default (single-layer) vocabulary of the data
            the space meets (images, sequences, text or tabular), the name of
            a vocabulary in `ops.VOCABULARIES` (e.g. `"image-blocks"`), a list
            of op names from the registry, or a mapping from op name to a
            factory (or `Op`). A mapping may mix in registered names with the
            value `None`. Defaults to `None`.
        min_depth: Fewest ops in a sequence, at least 1. Defaults to `1`.
        max_depth: Most ops in a sequence. Defaults to `None`: the named
            vocabulary's own depth (`ops.vocabulary_depth`), otherwise `8`.
        learning_rate: `False` to train every candidate with the optimizer's
            own learning rate, `True` to search over
            `DEFAULT_LEARNING_RATES`, or a list of rates to search over.
            Defaults to `False`.
        input_shape: The shape of one sample, if known now. A search binds
            the space to its data's shape itself. Defaults to `None`.
        max_params: Largest model, in weights, that the space admits; larger
            candidates count as invalid. Defaults to `None` (no cap).
        output_units: Units of the model's head, used to count parameters
            against `max_params`. Defaults to `1`.
        max_flops: Most multiply-adds for one sample that the space admits;
            costlier candidates count as invalid. Defaults to `None` (no
            cap).
        kind: One of `KINDS`, or `None` to follow the rank of the data (and
            the vocabulary's name, if `ops` is one). `"text"` reads samples
            of shape `(steps,)` as integer token ids: a token and position
            embedding (`blocks.TokenEmbedding`) comes before every genotype,
            and the vocabulary is that of sequences, plus global pooling
            over positions (`gmp`, `gap`). Defaults to `None`.
        vocabulary_size: For text, the number of token ids (max id + 1), or
            `None` to infer it from the training data in `adapt`. Defaults
            to `None`.
        embedding_dim: For text, the width of the embedding. Defaults to
            `32`.

    >>> space = SearchSpace(["conv3x3-16", "maxpool", "dense-32"], max_depth=3)
    >>> values = space.encode(["conv3x3-16", "dense-32"])
    >>> space.decode(values)
    ['conv3x3-16', 'dense-32']
    """

    def __init__(
        self,
        ops=None,
        min_depth=1,
        max_depth=None,
        learning_rate=False,
        input_shape=None,
        max_params=None,
        output_units=1,
        kind=None,
        vocabulary_size=None,
        embedding_dim=32,
        max_flops=None,
    ):
        self.kind = vocabulary.check_kind(ops, kind)
        if max_depth is None:
            max_depth = (ops_module.vocabulary_depth(ops)[1]
                         if isinstance(ops, str) else 8)
        if vocabulary_size is not None:
            check_int("vocabulary_size", vocabulary_size, 1)
        check_int("embedding_dim", embedding_dim, 1)
        self.vocabulary_size = (None if vocabulary_size is None
                                else int(vocabulary_size))
        self.embedding_dim = int(embedding_dim)
        self.front = ()
        check_int("min_depth", min_depth, 1)
        check_int("max_depth", max_depth, 1)
        if min_depth > max_depth:
            raise ValueError(
                "`min_depth <= max_depth` must hold, but got "
                f"(min_depth={min_depth}, max_depth={max_depth})."
            )
        self.min_depth = int(min_depth)
        self.max_depth = int(max_depth)
        self._op_table = vocabulary.make_op_table(ops)
        self.learning_rates = vocabulary.check_learning_rate(learning_rate)
        self.max_params = check_budget("max_params", max_params, "weights")
        self.max_flops = check_budget("max_flops", max_flops,
                                       "multiply-adds")
        # Checks of a bound space beyond its config (e.g. a latency budget):
        # callables `(space, ops) -> reason or None`, run last, in order.
        self.constraints = ()
        self.output_units = int(output_units)
        self.input_shape = None
        if input_shape is not None:
            self._bind(input_shape)

    # -- construction -----------------------------------------------------

    def _bind(self, input_shape):
        shape = architecture.check_input_shape(input_shape)
        rank = len(shape)
        kind = ops_module.RANK_KINDS[rank]
        if self.kind == "text":
            if rank != 1:
                raise ValueError(
                    "A text space reads samples of integer token ids, of "
                    f"shape (steps,). Received: input_shape={shape}."
                )
            if self.vocabulary_size is None:
                raise ValueError(
                    "A text space needs its `vocabulary_size` (max token id "
                    "+ 1). Received: vocabulary_size=None. Pass it, or use "
                    "`space.adapted(x_train)` (`NASSearch.fit` does)."
                )
            self.front = (ops_module.embedding_op(
                self.vocabulary_size, self.embedding_dim, shape[0]),)
            kind = "text"
        elif self.kind is not None and self.kind != kind:
            raise ValueError(
                f"This space is for {self.kind} data, but its input is "
                f"{kind} of shape {shape}. Received: input_shape={shape}."
            )
        if self._op_table is None:
            self._op_table = {
                n: ops_module.get(n)
                for n in ops_module.vocabulary(f"{kind}-layers")
            }
        self.input_shape = shape
        if not self._some_sequence_is_valid():
            raise ValueError(
                f"No op sequence of depth {self.min_depth} to "
                f"{self.max_depth} over ops {self.ops} is valid for input "
                f"shape {shape} ({ops_module.RANK_KINDS[rank]}). Accepted: "
                "ops that take this kind of input, e.g. "
                f"{ops_module.default_ops(rank)[:4]}"
                + self._budgets_text()
                + "."
            )

    def _budgets_text(self):
        budgets = [f"{n}={v}" for n, v in (("max_params", self.max_params),
                                           ("max_flops", self.max_flops))
                   if v is not None]
        budgets += [str(c) for c in self.constraints]
        return f", within {', '.join(budgets)}" if budgets else ""

    def bind(self, input_shape, output_units=None, max_params=None,
             max_flops=None, constraints=()):
        """A copy of this space bound to an input shape (and a head size).

        Binding resolves `ops=None` to the default vocabulary of the input's
        kind and checks that at least one sequence is valid for it. The copy
        keeps this space's op table, custom factories included.

        Args:
            input_shape: The shape of one sample.
            output_units: Optional units of the head.
            max_params: Optional cap on weights, replacing the space's.
            max_flops: Optional cap on multiply-adds, replacing the space's.
            constraints: Callables `(space, ops) -> reason or None` that
                `check` runs last, for budgets that must be measured (e.g.
                `latency.LatencyBudget`). They are not part of the config.
        """
        config = self.get_config()
        config["input_shape"] = None
        if output_units is not None:
            config["output_units"] = output_units
        if max_params is not None:
            config["max_params"] = max_params
        if max_flops is not None:
            config["max_flops"] = max_flops
        space = self.from_config(config, op_table=self._op_table)
        space.constraints = tuple(self.constraints) + tuple(constraints)
        space._bind(input_shape)
        return space

    # -- config -----------------------------------------------------------

    def get_config(self):
        """The arguments that rebuild this space (`from_config`).

        Ops are listed by name (`None` for a default vocabulary not yet
        resolved); custom factories are not serialized, so a space with
        custom ops is rebuilt from its names only where they are registered,
        or with `from_config(config, op_table=...)`.
        """
        return {
            "ops": None if self._op_table is None else list(self._op_table),
            "min_depth": self.min_depth,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rates or False,
            "input_shape": None if self.input_shape is None
            else list(self.input_shape),
            "max_params": self.max_params,
            "max_flops": self.max_flops,
            "output_units": self.output_units,
            "kind": self.kind,
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
        }

    @classmethod
    def from_config(cls, config, op_table=None):
        """The space of `get_config()`.

        Args:
            config: A dict from `get_config()`.
            op_table: Optional mapping from op name to `ops.Op` for the
                space's custom ops (those not in the registry).
        """
        config = dict(config)
        if op_table is not None and config.get("ops") is not None:
            missing = [n for n in config["ops"] if n not in op_table]
            if missing:
                raise ValueError(
                    f"`op_table` lacks the ops {missing} of the config. "
                    f"Received: op_table with {sorted(op_table)}.")
            config["ops"] = {n: op_table[n] for n in config["ops"]}
        return cls(**config)

    def with_budgets(self, **budgets):
        """A copy of this space with other per-candidate budgets
        (`max_params=`, `max_flops=`), its custom ops kept."""
        table = self._op_table if self.get_config()["ops"] is not None \
            else None
        return SearchSpace.from_config({**self.get_config(), **budgets},
                                       op_table=table)

    def adapted(self, x):
        """This space as training data `x` needs it; the space itself is
        not changed (a search does not change the user's space).

        A text space without a `vocabulary_size` is copied with `max(x) + 1`
        (token ids count from 0); one with it checks that every id fits.
        Other spaces, and data that is not an array (a `tf.data.Dataset`),
        are returned as they are.
        """
        if self.kind != "text" or not hasattr(x, "shape"):
            return self
        size = vocabulary.token_vocabulary_size(x, self.vocabulary_size)
        config = {**self.get_config(), "vocabulary_size": size}
        space = SearchSpace.from_config(config, op_table=(
            None if config["ops"] is None else self._op_table))
        space.constraints = self.constraints
        return space

    # -- the vocabulary ---------------------------------------------------

    @property
    def ops(self):
        """The op names of the vocabulary."""
        if self._op_table is None:
            raise ValueError(
                "This space uses the default vocabulary of the data it meets "
                "(ops=None), and it has met no data yet. Pass `input_shape=` "
                "or call `space.bind(input_shape)` first."
            )
        return list(self._op_table)

    @property
    def op_table(self):
        """Mapping from op name to `Op`, the front ops (text embedding)
        included, so that a builder can make every step of a plan."""
        self.ops  # Raises the helpful error when unbound.
        return {**self._op_table, **{op.name: op for op in self.front}}

    # -- Keras Tuner ------------------------------------------------------

    @property
    def hyperparameters(self):
        """The space as a fresh `keras_tuner.HyperParameters`."""
        hp = keras_tuner.HyperParameters()
        self.declare(hp)
        return hp

    def hyperparameters_with(self, extra=None):
        """`hyperparameters`, plus those of `extra` (a `HyperParameters`) that
        the space does not declare itself."""
        hp = self.hyperparameters
        if extra is not None:
            hp.merge(extra.space, overwrite=False)
        return hp

    def declare(self, hp):
        """Declare the space's hyperparameters on an existing `hp`."""
        return genotype.declare(self, hp)

    def decode(self, values):
        """The op list of a trial's `HyperParameters` or dict of values."""
        return genotype.decode(self, values)

    def encode(self, ops, learning_rate=None):
        """The values, as a dict, of the op list `ops` (the inverse of
        `decode`)."""
        return genotype.encode(self, ops, learning_rate)

    # -- validity ---------------------------------------------------------

    def check(self, ops):
        """Why `ops` is not a valid candidate, or `None` when it is.

        Checks the vocabulary, the depth and that no idempotent op comes
        twice in a row (`architecture.repeated`), then, once the space knows
        its input shape, the shape rules and `max_params`.
        """
        ops = list(ops)
        if not self.min_depth <= len(ops) <= self.max_depth:
            return (
                f"depth {len(ops)} is outside {self.min_depth}.."
                f"{self.max_depth}"
            )
        unknown = [n for n in ops if n not in self._op_table]
        if unknown:
            return f"unknown ops {unknown}"
        if self.input_shape is None:
            # `plan` says the same once there is a shape.
            return architecture.repeated(ops, self._op_table)
        if self.max_params is None and self.max_flops is None:
            reason = architecture.check(ops, self.input_shape, self._op_table,
                                        front=self.front)
        else:
            try:
                plan = self.plan(ops)
            except architecture.InvalidArchitectureError as e:
                return str(e)
            reason = architecture.over_budget(plan, self.max_params,
                                              self.max_flops)
        for constraint in self.constraints:
            if reason is not None:
                break
            reason = constraint(self, ops)
        return reason

    def plan(self, ops, head="auto"):
        """The `architecture.Plan` of `ops` for the bound input shape."""
        if self.input_shape is None:
            raise ValueError(
                "The space has no input shape yet; call `bind(input_shape)`."
            )
        return architecture.plan(
            ops,
            self.input_shape,
            output_units=self.output_units,
            head=head,
            op_table=self._op_table,
            front=self.front,
        )

    def next_shape(self, shape, name):
        """The shape after op `name`, or `None` where it cannot run."""
        return sampling.next_shape(self, shape, name)

    def _some_sequence_is_valid(self):
        return sampling.some_sequence_is_valid(self)

    def random_ops(self, rng, attempts=100):
        """A random valid op list, or `None` if none was found
        (`sampling.random_ops`)."""
        return sampling.random_ops(self, rng, attempts)

    def __repr__(self):
        ops = self.ops if self._op_table is not None else "default"
        kind = f", kind={self.kind!r}" if self.kind else ""
        return (
            f"SearchSpace(ops={ops}, min_depth={self.min_depth}, "
            f"max_depth={self.max_depth}, input_shape={self.input_shape}"
            f"{kind})"
        )
