"""Each assumption `keras_nas._compat` makes about Keras Tuner's internals,
pinned, so that an upgrade that breaks one fails here by name."""

import io
import contextlib

import keras
import keras_tuner
import numpy as np
import pytest
from keras_tuner.engine.metrics_tracking import infer_metric_direction
from keras_tuner.src import utils as kt_utils
from keras_tuner.src.engine import conditions as kt_conditions

from keras_nas import _compat


def oracle(tmp_path, **kwargs):
    o = keras_tuner.oracles.RandomSearchOracle(max_trials=3, seed=0, **kwargs)
    o._set_project_dir(str(tmp_path), "p")
    return o


def test_supported_range_holds_the_installed_release():
    from packaging.specifiers import SpecifierSet

    assert keras_tuner.__version__ in SpecifierSet(_compat.SUPPORTED)


@pytest.mark.parametrize("cls,name", [
    (cls, name) for cls, names in _compat.OVERRIDDEN_HOOKS.items()
    for name in names])
def test_every_overridden_hook_still_exists(cls, name):
    assert callable(getattr(cls, name, None)), (
        f"{cls.__name__}.{name} is gone: keras_nas's override is dead code")


def test_oracle_state_lists(tmp_path):
    o = oracle(tmp_path, objective=keras_tuner.Objective("score", "max"))
    o.update_space(keras_tuner.HyperParameters())
    hp = o.get_space()
    hp.Int("a", 0, 10)
    o.update_space(hp)
    assert _compat.retry_queue(o) == [] and _compat.end_order(o) == []
    trial = o.create_trial("tuner0")
    assert _compat.ongoing_trials(o) == {"tuner0": trial}
    assert _compat.is_duplicate(o, dict(trial.hyperparameters.values))
    assert not _compat.is_duplicate(o, {"a": -1})
    # update_trial returns the trial: early stopping reads its status.
    assert o.update_trial(trial.trial_id, {"score": 1.0}).trial_id == (
        trial.trial_id)
    trial.status = "COMPLETED"
    o.end_trial(trial)
    assert _compat.end_order(o) == [trial.trial_id]


def test_default_objective_placeholder(tmp_path):
    assert _compat.has_default_objective(oracle(tmp_path))
    assert not _compat.has_default_objective(
        oracle(tmp_path, objective=keras_tuner.Objective("x", "min")))


def test_tuner_helpers(tmp_path):
    def build(hp):
        import keras

        hp.Int("u", 1, 2)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("adam", "mse")
        return model

    tuner = keras_tuner.RandomSearch(build, objective="val_loss",
                                     max_trials=1, directory=str(tmp_path))
    assert _compat.checkpoint_path(tuner, "0").endswith(".weights.h5")
    assert _compat.build_model(tuner, keras_tuner.HyperParameters()).built
    with pytest.raises(keras_tuner.errors.FatalValueError):
        _compat.deepcopy_callbacks(tuner, [_Uncopyable()])


class _Uncopyable:
    def __deepcopy__(self, memo):
        raise TypeError("no")


def test_is_worker_reads_keras_tuner_variables(monkeypatch):
    monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
    monkeypatch.delenv("KERASTUNER_ORACLE_IP", raising=False)
    monkeypatch.delenv("KERASTUNER_ORACLE_PORT", raising=False)
    assert not _compat.is_worker()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    assert _compat.is_worker()
    assert not _compat.is_chief()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert not _compat.is_worker()
    assert _compat.is_chief()


def test_run_and_update_trial_records_a_trial_as_keras_tuners_loop(tmp_path):
    """`pack_loop` records each trial of a pack through Keras Tuner's own
    step: the run's metrics reach the oracle and the status is set; an
    error fails the trial with its traceback."""
    import keras

    class Tuner(keras_tuner.Tuner):
        def run_trial(self, trial, fail=False):
            if fail:
                raise keras_tuner.errors.FailedTrialError("bad candidate")
            return {"val_loss": 0.5}

    def build(hp):
        hp.Int("units", 1, 9)
        return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])

    tuner = Tuner(oracle=keras_tuner.oracles.RandomSearchOracle(
        objective="val_loss", max_trials=2), hypermodel=build,
        directory=str(tmp_path))
    for fail in (False, True):
        trial = tuner.oracle.create_trial("tuner0")
        _compat.run_and_update_trial(tuner, trial, fail=fail)
        tuner.on_trial_end(trial)
    first, second = (tuner.oracle.trials[t] for t in sorted(tuner.oracle.trials))
    assert first.status == "COMPLETED" and first.score == 0.5
    assert second.status == "FAILED" and "bad candidate" in second.message


def test_optimizer_state_is_named_after_the_weights_path():
    """`packing.copy_optimizer_state` matches a weight's optimizer state
    across optimizers by the state's name, which Keras derives from the
    weight's path (`add_variable_from_reference`)."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)],
                             name="seq_pin")
    for name in ("adam", "rmsprop", "sgd"):
        optimizer = keras.optimizers.get(name)
        if name == "sgd":
            optimizer = keras.optimizers.SGD(momentum=0.9)
        optimizer.build(model.trainable_variables)
        names = {v.name for v in optimizer.variables}
        for weight in model.trainable_variables:
            stem = weight.path.replace("/", "_")
            assert any(n.startswith(stem + "_") for n in names), (name, names)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the fused kernel is TensorFlow's")
def test_fused_adam_takes_keras_adams_steps():
    """`_compat.fused_adam` relies on Adam's `_momentums`, `_velocities`
    and `_get_variable_index`: its fused kernel must take Keras' own steps
    (weights and moments), in a compiled step as a pack runs it."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    start = [rng.normal(size=(5, 3)).astype("float32"),
             rng.normal(size=(3,)).astype("float32")]
    grads = [[tf.constant(rng.normal(size=w.shape).astype("float32"))
              for w in start] for _ in range(4)]
    adam = keras.optimizers.Adam(learning_rate=0.01, clipnorm=1.0)
    fused = _compat.fused_adam(adam)
    assert type(fused) is not keras.optimizers.Adam
    assert fused.get_config() == adam.get_config()

    def train(optimizer):
        weights = [keras.Variable(w) for w in start]
        optimizer.build(weights)
        step = tf.function(lambda g: optimizer.apply(g, weights))
        for g in grads:
            step(g)
        return ([w.numpy() for w in weights]
                + [v.numpy() for v in optimizer.variables])

    results = [train(adam), train(fused)]
    assert not np.allclose(results[0][0], start[0])
    for keras_value, fused_value in zip(*results):
        np.testing.assert_allclose(fused_value, keras_value, rtol=1e-5,
                                   atol=1e-7)
    # Anything but a plain Adam is left as it is.
    for other in (keras.optimizers.SGD(), keras.optimizers.AdamW(),
                  keras.optimizers.Adam(amsgrad=True)):
        assert _compat.fused_adam(other) is other


def test_the_servicer_is_keras_tuners(tmp_path):
    servicer, add = _compat.oracle_servicer(oracle(tmp_path))
    assert type(servicer).__name__ == "OracleServicer" and callable(add)


def test_both_patches_are_installed():
    assert kt_utils.save_json is _compat.save_json_atomic
    assert kt_conditions.Parent.to_proto is _compat._parent_to_proto
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        kt_conditions.Parent("depth", [2, 3]).to_proto()
    assert out.getvalue() == ""  # Keras Tuner 1.4's own prints here.


def test_keras_tuner_minimizes_f1_which_keras_nas_corrects():
    # Keras Tuner's direction table predates Keras' F1Score; if this starts
    # failing, Keras Tuner fixed it and our override can go.
    from keras_nas.data.task import objective_direction

    assert infer_metric_direction("val_f1_score") == "min"
    assert objective_direction("val_f1_score") == "max"


def test_a_list_of_objectives_is_a_multi_objective(tmp_path):
    o = keras_tuner.oracles.RandomSearchOracle(
        objective=[keras_tuner.Objective("a", "max"),
                   keras_tuner.Objective("b", "min")], max_trials=1)
    assert _compat.is_multi_objective(o.objective)
    assert not _compat.is_multi_objective(keras_tuner.Objective("a", "max"))
    made = _compat.make_objective(["val_accuracy",
                                   keras_tuner.Objective("params", "min")])
    assert _compat.is_multi_objective(made)
    assert [(m.name, m.direction) for m in made.objectives] == [
        ("val_accuracy", "max"), ("params", "min")]


def _counting_model():
    """A compiled `keras.Sequential` that counts how often its train step is
    traced (the step's Python body runs once per trace)."""
    import keras

    class Counting(keras.Sequential):
        traces = 0

        def train_step(self, data):
            Counting.traces += 1
            return super().train_step(data)

    model = Counting([keras.Input((8,)), keras.layers.Dense(4),
                      keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.skipif(
    __import__("keras").backend.backend() != "tensorflow",
    reason="Keras defers the build to the trace on TensorFlow only")
@pytest.mark.parametrize("as_dataset", [False, True])
def test_build_training_state_leaves_one_trace_of_the_train_step(as_dataset):
    import numpy as np
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(40, 8)).astype("float32")
    y = np.arange(40) % 3
    model = _counting_model()
    data = (tf.data.Dataset.from_tensor_slices((x, y)).batch(16),) \
        if as_dataset else (x, y)
    _compat.build_training_state(model, *data)
    # `Trainer._symbolic_build` made the optimizer's and the metrics'
    # variables, which Keras would otherwise create inside the first trace.
    assert model.optimizer.built
    assert model._compile_metrics.built
    model.fit(*data, epochs=2, verbose=0,
              **({} if as_dataset else {"batch_size": 16}))
    assert type(model).traces == 1


def test_forget_values_lets_a_trials_values_be_proposed_again(tmp_path):
    o = oracle(tmp_path, objective=keras_tuner.Objective("score", "max"))
    hp = keras_tuner.HyperParameters()
    hp.Choice("a", [1, 2])
    o.update_space(hp)
    trial = o.create_trial("tuner0")
    digest = o._compute_values_hash(trial.hyperparameters.values)
    assert _compat.is_duplicate(o, trial.hyperparameters.values)
    _compat.forget_values(o, trial.trial_id)
    assert digest not in o._tried_so_far
    assert not _compat.is_duplicate(o, trial.hyperparameters.values)


def test_set_project_dir_is_where_an_oracle_saves(tmp_path):
    o = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "max"), max_trials=2, seed=0)
    _compat.set_project_dir(o, str(tmp_path), "searcher")
    hp = keras_tuner.HyperParameters()
    hp.Int("x", 0, 9)
    o.update_space(hp)
    trial = o.create_trial("t")
    assert (tmp_path / "searcher" / "oracle.json").exists()
    o.update_trial(trial.trial_id, {"score": 1.0})
    trial.status = "COMPLETED"
    o.end_trial(trial)
    assert (tmp_path / "searcher" / f"trial_{trial.trial_id}"
            / "trial.json").exists()


class _First(_compat.OracleWrapper):
    """Proposes `a=7` once, then what the wrapped oracle proposes."""

    STATE_KEY = "first"
    OWN = ("oracle", "done")

    def __init__(self, oracle):
        super().__init__(oracle)
        self.done = False

    def populate_space(self, trial_id):
        if not self.done:
            self.done = True
            return {"status": "RUNNING", "values": {"a": 7}}
        return self.oracle.populate_space(trial_id)

    def own_state(self):
        return {"done": self.done}

    def set_own_state(self, state):
        self.done = state["done"]


def test_create_trial_reaches_the_oracle_only_through_self(tmp_path):
    # `OracleWrapper` runs Keras Tuner's `Oracle.create_trial` on the
    # wrapper: every trial it records lands in the wrapped oracle's store.
    inner = oracle(tmp_path, objective=keras_tuner.Objective("score", "max"))
    wrapper = _First(inner)
    assert "done" in vars(wrapper) and "done" not in vars(inner)
    hp = keras_tuner.HyperParameters()
    hp.Int("a", 0, 9)
    wrapper.update_space(hp)
    wrapper.verbose = 0  # Set on the wrapped oracle.
    assert inner.verbose == 0
    first = wrapper.create_trial("tuner0")
    assert first.hyperparameters.values == {"a": 7}
    assert inner.trials == {first.trial_id: first}
    assert inner.start_order == [first.trial_id]
    assert _compat.ongoing_trials(inner) == {"tuner0": first}
    assert _compat.is_duplicate(inner, {"a": 7})
    assert (tmp_path / "p" / f"trial_{first.trial_id}" / "trial.json").exists()
    wrapper.update_trial(first.trial_id, {"score": 1.0})
    first.status = "COMPLETED"
    wrapper.end_trial(first)
    assert _compat.end_order(inner) == [first.trial_id]
    assert wrapper.get_best_trials(1) == [first]
    second = wrapper.create_trial("tuner0")  # The wrapped oracle's own.
    assert second.hyperparameters.values != {"a": 7}
    assert sorted(inner.trials) == sorted([first.trial_id, second.trial_id])
    # The wrapper's state is saved beside the wrapped oracle's.
    again = _First(oracle(tmp_path,
                          objective=keras_tuner.Objective("score", "max")))
    again.reload()
    assert again.done and sorted(again.trials) == sorted(inner.trials)
    assert _compat.unwrapped(_First(again)) is again.oracle


def test_an_oracle_that_overrides_create_trial_is_refused():
    class Own(keras_tuner.oracles.RandomSearchOracle):
        def create_trial(self, tuner_id):
            return super().create_trial(tuner_id)

    with pytest.raises(TypeError, match="Own overrides `create_trial`"):
        _First(Own(max_trials=1))
    with pytest.raises(TypeError, match="must be a `keras_tuner.Oracle`"):
        _First("random")
