"""What each strategy declares it can optimize (`supports_multi_objective`,
and Keras Tuner's own oracles by their table), and the search refusing a
list of objectives for a strategy of one before anything trains."""

import keras_tuner
import pytest

import keras_nas
from keras_nas import strategies
from keras_nas.strategies import keras_tuner_oracles
from keras_nas.strategies.keras_tuner_oracles import supports_multi_objective

SEVERAL = ["val_accuracy", "params"]


class OneObjective(keras_nas.EvolutionOracle):
    """A user's oracle that declares that it takes one objective."""

    supports_multi_objective = False


class Undeclared(keras_tuner.Oracle):
    """A user's oracle that declares nothing."""


@pytest.mark.parametrize("oracle, several", [
    (keras_nas.EvolutionOracle, True),
    (keras_nas.LocalSearchOracle, False),
    (strategies.RandomSearchOracle, True),
    (strategies.BayesianOptimizationOracle, False),
    (strategies.HyperbandOracle, False),
    (keras_tuner.oracles.RandomSearchOracle, True),
    (keras_tuner.oracles.GridSearchOracle, True),
    (keras_tuner.oracles.BayesianOptimizationOracle, False),
    (keras_tuner.oracles.HyperbandOracle, False),
    (OneObjective, False),
    (Undeclared, True),
])
def test_each_oracle_says_whether_it_takes_several_objectives(oracle,
                                                              several):
    assert supports_multi_objective(oracle) is several
    assert supports_multi_objective(oracle.__new__(oracle)) is several


def test_ours_declare_it_and_keras_tuners_are_in_one_table():
    assert vars(keras_nas.EvolutionOracle)["supports_multi_objective"]
    assert not vars(keras_nas.LocalSearchOracle)["supports_multi_objective"]
    assert set(keras_tuner_oracles.KERAS_TUNER_MULTI_OBJECTIVE) == {
        keras_tuner.oracles.RandomSearchOracle,
        keras_tuner.oracles.GridSearchOracle,
        keras_tuner.oracles.BayesianOptimizationOracle,
        keras_tuner.oracles.HyperbandOracle}


@pytest.mark.parametrize("make, shown", [
    (lambda: "local", "strategy='local'"),
    (lambda: "hyperband", "strategy='hyperband'"),
    (lambda: keras_nas.Strategy("local", predictor=True), "strategy='local'"),
    (lambda: keras_nas.LocalSearchOracle(), "a LocalSearchOracle"),
    (lambda: keras_tuner.oracles.BayesianOptimizationOracle(),
     "a BayesianOptimizationOracle"),
    (lambda: OneObjective(), "a OneObjective"),
])
def test_a_strategy_of_one_objective_is_refused_several_at_once(make, shown):
    with pytest.raises(ValueError, match=(
            f"{shown} optimizes one objective.*Received: objective="
            r"\['val_accuracy', 'params'\]")):
        keras_nas.NASSearch(strategy=make(), objective=SEVERAL)
    # One objective is fine, a name or a list of one alike.
    keras_nas.NASSearch(strategy=make(), objective="val_accuracy")


@pytest.mark.parametrize("make", [
    lambda: "auto", lambda: "evolution", lambda: "random",
    lambda: keras_nas.Strategy("evolution", population_size=4),
    lambda: keras_nas.EvolutionOracle(), lambda: Undeclared(),
    lambda: keras_tuner.oracles.RandomSearchOracle(),
])
def test_strategies_of_several_objectives_take_a_list(make):
    strategy = make()
    search = keras_nas.NASSearch(strategy=strategy, objective=SEVERAL)
    assert search.config.objective == SEVERAL
    assert strategies.check_strategy(strategy, SEVERAL) is strategy
