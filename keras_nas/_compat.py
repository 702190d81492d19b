"""The one door to Keras Tuner's internals.

keras_nas builds on Keras Tuner's exported names (`keras_tuner.Oracle`,
`keras_tuner.synchronized`, `keras_tuner.engine.trial.TrialStatus`,
`keras_tuner.engine.tuner.maybe_distribute`, ...). What it needs beyond them
is here, and only here, each with why it is needed and what breaks without
it. `tests/test_compat.py` pins every assumption, so a Keras Tuner release
that moves one fails in CI, by name, instead of silently for users. The
supported range is bounded in `setup.cfg`.

The two Keras internals keras_nas relies on live here too, pinned the same
way: `Trainer._symbolic_build` (`build_training_state`) and Adam's
per-weight state lists (`fused_adam`).

`OracleWrapper` is here too: it runs Keras Tuner's `Oracle.create_trial`
on another oracle's trial store, which holds only while that method reaches
the oracle through `self`.

Two patches are installed on import:

- `save_json` is made atomic. Keras Tuner writes `oracle.json`,
  `trial.json` and the tuner's JSON by opening the file and writing into it,
  so a process killed mid-write leaves a truncated file and the project no
  longer reloads. Without the patch, resume after `kill -9` can fail.
- `Parent.to_proto` loses a stray debug `print` (Keras Tuner 1.4), which
  otherwise writes a line to stdout for every conditional hyperparameter
  sent between the chief and a worker: our op sequences are conditional,
  so worker logs and the chief's output fill with noise.
"""

import contextlib
import json

import keras
import keras_tuner
from keras_tuner.src import utils as kt_utils
from keras_tuner.src.distribute import utils as dist_utils
from keras_tuner.src.engine import conditions as kt_conditions

from keras_nas._atomic import write_text_atomic

__all__ = [
    "OVERRIDDEN_HOOKS",
    "OracleWrapper",
    "SUPPORTED",
    "build_model",
    "checkpoint_path",
    "deepcopy_callbacks",
    "end_order",
    "forget_values",
    "fused_adam",
    "has_default_objective",
    "trial_tracebacks",
    "unwrapped",
    "install",
    "is_duplicate",
    "is_multi_objective",
    "make_objective",
    "is_chief",
    "is_worker",
    "ongoing_trials",
    "oracle_servicer",
    "project_dir",
    "retry_queue",
    "run_and_update_trial",
    "save_json_atomic",
    "set_project_dir",
]

#: The Keras Tuner releases this module was checked against (setup.cfg).
SUPPORTED = ">=1.4.7,<1.5"

#: Private methods that keras_nas overrides, by the class that defines them.
#: Renamed upstream, an override would silently stop being called; the test
#: checks that each still exists.
OVERRIDDEN_HOOKS = {
    keras_tuner.Tuner: (
        # Declare our space without building a model per condition.
        "_populate_initial_space",
        # Our own TensorBoard run per trial instead of Keras Tuner's.
        "_configure_tensorboard_dir",
        # One `clear_session()` per trial instead of two garbage collections.
        "_try_build",
        # A full disk stops the search instead of failing its trials.
        "_run_and_update_trial",
    ),
    keras_tuner.Oracle: (
        # Redraw random proposals that our space rejects.
        "_random_values",
    ),
}

_ORIGINAL_SAVE_JSON = kt_utils.save_json


# -- state of an oracle -------------------------------------------------------
# Resume and the local chief need these lists; Keras Tuner has no accessor.

def retry_queue(oracle):
    """The ids of trials waiting to run again (a list, mutable in place)."""
    return oracle._retry_queue


def end_order(oracle):
    """The ids of ended trials, in the order they ended (mutable)."""
    return oracle.end_order


def ongoing_trials(oracle):
    """Mapping from tuner id to the trial it is running (mutable)."""
    return oracle.ongoing_trials


def set_project_dir(oracle, directory, project_name):
    """Give an oracle used without a tuner (`integrations.ray_tune.NASSearcher`)
    the folder it saves itself and its trials into; a `Tuner` does this
    for its own oracle, and `create_trial` fails without it."""
    oracle._set_project_dir(directory, project_name)


def project_dir(oracle):
    """The folder an oracle saves itself into (made if missing)."""
    return oracle._project_dir


def is_duplicate(oracle, values):
    """Whether `values` were proposed before by `oracle`."""
    return oracle._duplicate(values)


def forget_values(oracle, trial_id):
    """Let the values of trial `trial_id` be proposed again: its record is
    lost (`front.project_folder`), so they no longer count as tried."""
    oracle._tried_so_far.discard(oracle._id_to_hash.pop(trial_id, None))


def is_multi_objective(objective):
    """Whether `objective` is Keras Tuner's `MultiObjective` (what it makes
    of `objective=[...]`; the class is not exported)."""
    from keras_tuner.src.engine.objective import MultiObjective

    return isinstance(objective, MultiObjective)


def make_objective(objective):
    """Keras Tuner's objective of `objective` (a name, an `Objective` or a
    list), as `Oracle.__init__` makes it: a list becomes a
    `MultiObjective`. For an oracle whose objective is set after it was
    made."""
    from keras_tuner.src.engine.objective import create_objective

    return create_objective(objective)


def has_default_objective(oracle):
    """Whether `oracle` was made without an objective.

    Keras Tuner then uses a placeholder objective, which a search replaces
    with its own.
    """
    return oracle.objective.name == "default_objective"


# -- a tuner's helpers -----------------------------------------------------

def checkpoint_path(tuner, trial_id):
    """Where Keras Tuner keeps a trial's weights (`load_model` reads it)."""
    return tuner._get_checkpoint_fname(trial_id)


def run_and_update_trial(tuner, trial, *fit_args, **fit_kwargs):
    """Keras Tuner's own step of its search loop: run the trial, report its
    metrics to the oracle and set its status (`COMPLETED`, or `FAILED` /
    `INVALID` with the traceback as its message), as `BaseTuner.search`
    does for each trial; a packed search (`engine.pack_loop`) records each
    trial of a pack through it."""
    return tuner._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)


def deepcopy_callbacks(tuner, callbacks):
    """Keras Tuner's copy of the user's callbacks, one set per trial, with
    its clear error for callbacks that cannot be copied."""
    return tuner._deepcopy_callbacks(callbacks)


def build_model(tuner, hp):
    """The hypermodel's model for `hp`, built under the tuner's
    distribution strategy, with its compile overrides."""
    return tuner._build_hypermodel(hp)


def build_training_state(model, x, y=None):
    """Create `model`'s optimizer and compiled-metric variables before `fit`.

    With the TensorFlow backend and no distribution strategy, Keras defers
    them to the first trace of the train step; a `tf.function` that creates
    variables is traced twice, which costs a candidate as much as a few
    epochs on small data (benchmarks/README.md, section 2). Building them here (from the shapes of `x` and
    `y`, or a dataset's `element_spec`) leaves one trace. Relies on
    `Trainer._symbolic_build`, pinned in `tests/test_compat.py`. Other
    backends, and models under a distribution strategy (which Keras builds
    itself), are left alone.
    """
    if keras.backend.backend() != "tensorflow" or getattr(
            model, "_distribute_strategy", None) is not None:
        return
    if y is None:  # A dataset of (x, y) or (x, y, sample_weight) batches.
        batch = getattr(x, "element_spec", None)
        if not isinstance(batch, tuple) or len(batch) < 2:
            return
        batch = batch[:2]
    else:  # `y` may be a dict, one target per output (a pack's).
        batch = (x[:1], keras.tree.map_structure(lambda a: a[:1], y))
    model._symbolic_build(data_batch=batch)


def fused_adam(optimizer):
    """`optimizer` for a pack (`engine.packing`): a plain
    `keras.optimizers.Adam` becomes one whose update of each weight is
    TensorFlow's fused Adam kernel (`ResourceApplyAdam`, one op) instead of
    Keras' dozen; any other optimizer, or another backend, is returned as
    is.

    The kernel computes Keras' own update (the same `alpha`, moments and
    step, to float rounding), but a pack of 8 candidates traces its train
    step with hundreds of ops fewer: 0.26 against 0.64 s for 57 weights,
    and a pack of 16 digits candidates trains in 0.87 of the time
    (benchmarks/README.md, section 4). Clipping, weight decay and EMA stay
    Keras' (they run outside `update_step`); AMSGrad and sparse gradients
    keep Keras' update. Relies on Adam's `_momentums`, `_velocities` and
    `_get_variable_index`, pinned in `tests/test_compat.py`. The optimizer
    is the pack's own; a candidate's model keeps a plain Adam, into which
    `packing.copy_optimizer_state` copies its state by name as before.
    """
    if (keras.backend.backend() != "tensorflow"
            or type(optimizer) is not keras.optimizers.Adam
            or optimizer.amsgrad):
        return optimizer
    return _FusedAdam.from_config(optimizer.get_config())


class _FusedAdam(keras.optimizers.Adam):
    """Adam, each dense weight updated by TensorFlow's one fused kernel."""

    def update_step(self, gradient, variable, learning_rate):
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.constant(self.beta_1, dtype)
        beta_2 = tf.constant(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.constant(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype))


def is_worker():
    """Whether this process is a Keras Tuner worker (of a chief elsewhere),
    read from `KERASTUNER_*` as Keras Tuner reads it."""
    return dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle()


def is_chief():
    """Whether this process is the chief of Keras Tuner's own distributed
    mode (its `search` serves the oracle instead of training)."""
    return dist_utils.has_chief_oracle() and dist_utils.is_chief_oracle()


def oracle_servicer(oracle):
    """Keras Tuner's gRPC service for `oracle`, and the function that adds it
    to a `grpc.server` (the chief's side of its distributed engine)."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    add = protos.get_service_grpc().add_OracleServicer_to_server
    return OracleServicer(oracle), add


# -- an oracle around another ----------------------------------------------

class OracleWrapper(keras_tuner.Oracle):
    """A `keras_tuner.Oracle` that adds one behaviour around another, as Ray
    Tune's `ConcurrencyLimiter` wraps a searcher.

    The tuner sees the wrapper. A subclass overrides `populate_space`, and
    asks the wrapped oracle (`self.oracle.populate_space`) when it has
    nothing of its own to propose. The wrapper has no trial store (it does
    not run `Oracle.__init__`): any attribute it does not own (`OWN`) is
    read and set on the wrapped oracle. So Keras Tuner's `create_trial`,
    run on the wrapper under its lock, records each trial in the wrapped
    oracle's `trials`, orders and values tried, and the strategy sees every
    trial as if it had proposed it. The rest of the protocol
    (`update_trial`, `end_trial`, `reload`, ...) calls the wrapped oracle's
    own methods. The wrapper's state (`own_state()`, JSON) is saved beside
    the wrapped oracle's in `oracle.json`, under `STATE_KEY`.

    Relies on `Oracle.create_trial` reaching the oracle only through `self`
    (pinned in `tests/test_compat.py`); an oracle whose class overrides
    `create_trial` is refused, since its override would not run.

    Args:
        oracle: The `keras_tuner.Oracle` to wrap.
    """

    #: The key of the wrapper's own state in the saved state.
    STATE_KEY = None
    #: The attributes kept on the wrapper itself.
    OWN = ("oracle",)

    def __init__(self, oracle):
        if not isinstance(oracle, keras_tuner.Oracle):
            raise TypeError(
                f"`oracle` must be a `keras_tuner.Oracle`. Received: "
                f"oracle={oracle!r} (of type {type(oracle).__name__}).")
        if not isinstance(oracle, OracleWrapper) and (
                type(oracle).create_trial
                is not keras_tuner.Oracle.create_trial):
            raise TypeError(
                f"{type(oracle).__name__} overrides `create_trial`, which "
                f"{type(self).__name__} replaces with Keras Tuner's own. "
                "Received: an oracle of that class. Accepted: oracles that "
                "propose through `populate_space`.")
        object.__setattr__(self, "oracle", oracle)

    def __getattr__(self, name):
        # Only for what the wrapper lacks; `oracle` is missing only in a
        # copy under construction (`copy.deepcopy`, `pickle`).
        if name == "oracle" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.oracle, name)

    def __setattr__(self, name, value):
        if name in type(self).OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.oracle, name, value)

    def populate_space(self, trial_id):
        return self.oracle.populate_space(trial_id)

    def own_state(self):
        """The wrapper's own state, as JSON. Defaults to `{}`."""
        return {}

    def set_own_state(self, state):
        """Restore what `own_state()` returned."""

    # -- the wrapped oracle's ---------------------------------------------
    # `create_trial` is Keras Tuner's own, run on the wrapper (see above).

    @keras_tuner.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        return self.oracle.update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def end_trial(self, trial):
        self.oracle.end_trial(trial)
        self.save()  # The wrapped oracle saved its state without ours.

    def score_trial(self, trial):
        return self.oracle.score_trial(trial)

    def get_best_trials(self, num_trials=1):
        return self.oracle.get_best_trials(num_trials)

    def get_trial(self, trial_id):
        return self.oracle.get_trial(trial_id)

    def get_space(self):
        return self.oracle.get_space()

    def update_space(self, hyperparameters):
        return self.oracle.update_space(hyperparameters)

    def _set_project_dir(self, directory, project_name):
        self.oracle._set_project_dir(directory, project_name)

    def get_state(self):
        state = self.oracle.get_state()
        state[self.STATE_KEY] = self.own_state()
        return state

    def set_state(self, state):
        self.oracle.set_state(state)
        self._restore_own(state)

    def reload(self):
        self.oracle.reload()
        self._restore_own(kt_utils.load_json(self._get_oracle_fname()))

    def _restore_own(self, state):
        # Absent from a file that the wrapped oracle saved last (a kill
        # between its save and the wrapper's): the wrapper keeps its own.
        own = state.get(self.STATE_KEY)
        if own is not None:
            self.set_own_state(own)


def unwrapped(oracle):
    """The oracle inside any `OracleWrapper`s: the strategy's."""
    while isinstance(oracle, OracleWrapper):
        oracle = oracle.oracle
    return oracle


# -- the patches ---------------------------------------------------------

def save_json_atomic(path, obj):
    """`keras_tuner`'s `save_json`, written whole or not at all."""
    path = str(path)
    if "://" in path:  # Remote (gs://...) paths keep Keras Tuner's writer.
        return _ORIGINAL_SAVE_JSON(path, obj)
    text = json.dumps(obj)
    write_text_atomic(path, text)
    return text


def _parent_to_proto(self):
    """Keras Tuner 1.4's `Parent.to_proto`, without its debug print."""
    from keras_tuner.src import protos

    proto = protos.get_proto()
    first = self.values[0]
    if isinstance(first, str):
        values = [proto.Value(string_value=v) for v in self.values]
    elif isinstance(first, bool):
        values = [proto.Value(boolean_value=v) for v in self.values]
    elif isinstance(first, int):
        values = [proto.Value(int_value=v) for v in self.values]
    else:
        values = [proto.Value(float_value=v) for v in self.values]
    return proto.Condition(
        parent=proto.Condition.Parent(name=self.name, values=values))


def install():
    """Install both patches for this process (done on import)."""
    kt_utils.save_json = save_json_atomic
    kt_conditions.Parent.to_proto = _parent_to_proto


install()


@contextlib.contextmanager
def trial_tracebacks(shown):
    """Keras Tuner prints the traceback of every failed trial on the screen
    while its `config.DEBUG` is on, which it is by default; a search of
    architectures fails some trials as a matter of course (a NaN loss, an
    op too large). In this block it prints them only if `shown`; the
    traceback is still in each trial's `message` either way."""
    from keras_tuner.src import config

    old = config.DEBUG
    config.DEBUG = bool(shown)
    try:
        yield
    finally:
        config.DEBUG = old
