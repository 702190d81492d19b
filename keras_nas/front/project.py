"""What a search leaves in its project folder.

Keras Tuner keeps the trials; keras_nas adds `keras_nas.json`: the search's
config (`NASSearch.get_config()`) and what `fit` learned of the data. From
it, `NASSearch.load` rebuilds the search exactly as it ran. It is written
whole or not at all. (Exporting the best model is `front.export`.)
"""

import importlib
import json
import os

import keras_tuner

from keras_nas._atomic import write_text_atomic
from keras_nas.engine.options import deserialize, serialize

__all__ = ["META", "ORACLE", "deserialize", "has_run", "read_meta",
           "serialize", "strategy_from_config", "write_meta"]

#: The search's description in its project folder.
META = "keras_nas.json"
#: Keras Tuner's oracle state in a project folder: its trials.
ORACLE = "oracle.json"


def has_run(project_dir):
    """Whether a search has run in `project_dir` (its oracle saved its
    state there)."""
    return os.path.exists(os.path.join(project_dir, ORACLE))


def strategy_from_config(strategy):
    """A strategy name, or the oracle of a `{"class_name": ...}` config."""
    if not isinstance(strategy, dict):  # A name, or an oracle instance.
        return strategy
    module, _, name = strategy["class_name"].rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)()
    except Exception as e:  # Any failure to rebuild it means the same.
        raise ValueError(
            f"The search ran with the oracle {strategy['class_name']}, which "
            f"cannot be rebuilt with its default arguments ({e}). Pass "
            "`strategy=` an instance of it."
        ) from None


def read_meta(directory, project_name):
    """The description a search left in its project folder.

    Args:
        directory, project_name: The project folder.

    Raises:
        FileNotFoundError: no keras_nas search is there.
    """
    path = os.path.join(directory, project_name, META)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No keras_nas search at {os.path.join(directory, project_name)}"
            f" (missing {META}).")
    with open(path) as f:
        return json.load(f)


def write_meta(project_dir, config, input_shape, task, objective):
    """Describe a search in its project folder: its config, and what `fit`
    learned of the data (the sample shape, the task, the objective)."""
    meta = {
        "config": config,
        "input_shape": list(input_shape),
        "task": task.get_config(),
        "objective": objective_to_json(objective),
    }
    os.makedirs(project_dir, exist_ok=True)
    write_text_atomic(os.path.join(project_dir, META),
                      json.dumps(meta, indent=1), fsync=True)


def objective_to_json(objective):
    """An objective (a `keras_tuner.Objective`, a name, or a list of those)
    as JSON: a name, `{"name", "direction"}`, or a list of them."""
    if isinstance(objective, (list, tuple)):
        return [objective_to_json(o) for o in objective]
    if isinstance(objective, keras_tuner.Objective):
        return {"name": objective.name, "direction": objective.direction}
    return objective


def objective_from_json(value):
    """The inverse of `objective_to_json`."""
    if isinstance(value, list):
        return [objective_from_json(v) for v in value]
    if isinstance(value, dict):
        return keras_tuner.Objective(value["name"], value["direction"])
    return value
