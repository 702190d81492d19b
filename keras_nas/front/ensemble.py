"""An ensemble of a finished search's models, as one `keras.Model`.

`search.ensemble(size=5)` picks among the completed trials by greedy
selection with replacement (`analysis.ensemble.select`) on the validation
predictions each trial saved at its best epoch (`engine.predictions`): it
trains nothing. It then builds one `keras.Model`: one input, each distinct
member (its best epoch's weights) applied to it, and their outputs averaged
with the members' weights (probabilities for classification, values for a
regression). Only built-in layers join them (a `Rescaling` per member, an
`Add`), so its `.keras` file loads with `import keras_nas, keras`, and it
exports as the single best model does (`search.export(path, ensemble=5)`).

Budgets hold for the whole: the space's `max_params` and `max_flops` and
the search's latency budget cap the sums over the ensemble's distinct
members, unless `budget=` gives other caps. What was chosen, its validation
score and its cost beside the single best go into `ensemble.json` in the
project folder, which `summary()` and `keras-nas report` show.
"""

import json
import logging
import os
import warnings

from keras_nas._atomic import write_text_atomic
from keras_nas._checks import check_int
from keras_nas.analysis import ensemble as selection_module
from keras_nas.data.task import primary_objective
from keras_nas.engine import predictions
from keras_nas.space import builder

__all__ = ["ENSEMBLE", "attach_selector", "build", "describe", "export_info",
           "mark_members", "population_selector", "read_record"]

_logger = logging.getLogger(__name__)

#: The last ensemble built, in the project folder.
ENSEMBLE = "ensemble.json"
_METRIC = {"regression": "mean squared error"}


def build(results, size=5, budget=None):
    """Select an ensemble of `results`' trials and build its model.

    Args:
        results: A `front.results.SearchResults`.
        size: Most picks (members, with repetition). Defaults to `5`.
        budget: `{"params" | "flops" | "latency_ms": cap}` for the
            ensemble as a whole, or `None` for the search's own budgets.
            Defaults to `None`.

    Returns:
        `(model, record)`: the compiled `keras.Model` and what was written
        to `ensemble.json`.
    """
    size = check_int("size", size, 1)
    given = budget is not None
    budget = (selection_module.check_budget(budget) if given
              else search_budget(results))
    candidates, skipped = _candidates(results)
    labels = predictions.read(predictions.labels_path(results.project_dir))
    if labels is not None:
        unaligned = [t for t, p in candidates.items() if len(p) != len(labels)]
        skipped += len(unaligned)
        candidates = {t: p for t, p in candidates.items()
                      if t not in unaligned}
    if not candidates or labels is None:
        raise RuntimeError(
            "No completed trial of this search has saved validation "
            f"predictions ({predictions.PREDICTIONS} in its folder, and "
            f"{predictions.LABELS} in {results.project_dir}), so there is "
            "nothing to select an ensemble from. Trials save them as they "
            "end, from this version of keras_nas on: run the search (or "
            "resume it with more trials) first.")
    records = {r.trial_id: r for r in results.results()}
    costs = {t: _costs(results, records[t]) for t in records}
    best = results.best_trial().trial_id
    _check_best(best, costs[best], budget, given)
    usable = {t: p for t, p in candidates.items()
              if all(costs[t].get(name) is not None for name in budget)}
    skipped += len(candidates) - len(usable)
    kind = results.task_.kind
    selection = selection_module.select(
        usable, labels, size, kind, costs={t: costs[t] for t in usable},
        budget=budget)
    model = ensemble_model(results, selection.weights)
    record = {
        "size": size,
        "members": list(selection.weights),
        "weights": list(selection.weights.values()),
        "picks": list(selection.members),
        "ops": {t: records[t].ops for t in selection.weights},
        "metric": _METRIC.get(kind, "log loss"),
        "validation": _validation(usable, labels, kind, selection, best),
        "single_best": best,
        "cost": {"ensemble": _total(selection.weights, costs),
                 "single_best": dict(costs[best])},
        "budget": budget,
        "budget_from": "argument" if given else "search",
        "candidates": len(usable),
        "skipped": skipped,
    }
    _measure_latency(results, model, best, record, budget)
    write_text_atomic(os.path.join(results.project_dir, ENSEMBLE),
                      json.dumps(record, indent=1))
    if skipped:
        _logger.info("Ensemble: %d completed trial(s) left out (no usable "
                     "saved validation predictions, or no cost that the "
                     "budget caps).", skipped)
    return model, record


def search_budget(results):
    """The search's budgets as an ensemble's: `max_params`, `max_flops`
    and the latency budget, those that were set."""
    space = results.space_
    latency = results.config.latency_in_use()
    caps = {"params": space.max_params, "flops": space.max_flops,
            "latency_ms": None if latency is None else latency.max_ms}
    return {k: float(v) for k, v in caps.items() if v is not None}


def _candidates(results):
    """`{trial_id: predictions}` of the completed trials that saved them,
    in trial order, and how many completed trials did not."""
    tuner = results.tuner
    completed = sorted((t for t in tuner.oracle.trials.values()
                        if t.status == "COMPLETED"),
                       key=lambda t: int(t.trial_id))
    found = {}
    for trial in completed:
        array = predictions.read(predictions.predictions_path(
            tuner.get_trial_dir(trial.trial_id)))
        if array is not None:
            found[trial.trial_id] = array
    return found, len(completed) - len(found)


def _costs(results, record):
    trial = results.tuner.oracle.trials[record.trial_id]
    latency = None
    if trial.metrics.exists("latency_ms"):
        latency = trial.metrics.get_last_value("latency_ms")
    return {"params": record.params, "flops": record.flops,
            "latency_ms": None if latency is None else float(latency)}


def _check_best(best, cost, budget, given):
    for name, cap in budget.items():
        value = cost.get(name)
        if value is not None and value > cap:
            source = (f"budget={{{name!r}: {cap:g}}}" if given
                      else f"the search's {name} budget, {cap:g}")
            raise ValueError(
                f"The ensemble's budget is below the cost of the search's "
                f"best model alone: {source}, but trial {best} costs "
                f"{name}={value:g}. Received: budget={budget!r}. Accepted: "
                f"caps of at least the best model's cost ({name}="
                f"{value:g}), or budget=None for the search's own budgets.")


def _total(weights, costs):
    out = {}
    for name in selection_module.COSTS:
        values = [costs[t].get(name) for t in weights]
        out[name] = None if any(v is None for v in values) else sum(values)
    return out


def _validation(candidates, labels, kind, selection, best):
    """The ensemble's validation scores beside the single best's."""
    average = sum(w * candidates[t].astype("float64")
                  for t, w in selection.weights.items())

    def scores(prediction):
        out = {"loss": selection_module.score(prediction, labels, kind)}
        if kind != "regression":
            out["accuracy"] = selection_module.score(prediction, labels, kind,
                                                     "accuracy")
        return out

    return {"ensemble": scores(average),
            "single_best": scores(candidates[best]) if best in candidates
            else None,
            "per_pick": list(selection.scores)}


def ensemble_model(results, weights):
    """The compiled `keras.Model` averaging trials `weights` (`{trial_id:
    weight}`) of `results`, each with its best epoch's weights."""
    import keras

    space, task = results.space_, results.task_
    inputs = keras.Input(shape=space.input_shape, name="input")
    outputs = []
    for trial_id, weight in weights.items():
        trained = results.best_model(trial_id)
        # The same layers, uncompiled and named after the trial (the
        # names of a functional model's layers must differ).
        member = builder.build_from_plan(
            space.plan(results.best_architecture(trial_id),
                       head=results.head),
            task.activation, op_table=space.op_table,
            name=f"trial_{trial_id}")
        member.set_weights(trained.get_weights())
        outputs.append(keras.layers.Rescaling(
            float(weight), name=f"weight_{trial_id}")(member(inputs)))
    output = (outputs[0] if len(outputs) == 1
              else keras.layers.Add(name="average")(outputs))
    model = keras.Model(inputs, output, name="ensemble")
    results.tuner.hypermodel.compile_model(model)
    # Built now, so that a saved file holds the variables a load expects.
    model.optimizer.build(model.trainable_variables)
    return model


def _measure_latency(results, model, best, record, budget):
    """With the search's latency meter: the ensemble's and the single
    best's latency, measured the same way, into `record`'s costs."""
    meter = getattr(results.tuner, "latency", None)
    if meter is None:
        return
    from keras_nas.scoring.latency import LatencyCache, measure_latency

    def measure(m):
        return measure_latency(
            m, results.space_.input_shape, batch_size=meter.batch_size,
            repeats=meter.repeats, runtime=meter.runtime,
            cache=LatencyCache())

    cost = record["cost"]
    cost["ensemble"]["latency_ms"] = measure(model)
    cost["single_best"]["latency_ms"] = measure(results.best_model(best))
    record["latency"] = {"batch_size": meter.batch_size,
                         "runtime": meter.runtime, "measured": True}
    cap = budget.get("latency_ms")
    if cap is not None and cost["ensemble"]["latency_ms"] > cap:
        warnings.warn(
            f"The ensemble's measured latency, "
            f"{cost['ensemble']['latency_ms']:.3g} ms, exceeds the budget "
            f"of {cap:g} ms that its members' latencies summed within; "
            "pass a smaller `size` or `budget={'latency_ms': ...}`.",
            stacklevel=4)


def population_selector(tuner, kind):
    """The `ensemble_selector` of an `EvolutionOracle(ensemble_size=k)`
    (NES-RE, `strategies.ensemble_parents`): `(trial_ids, size) -> picks`,
    the greedy selection (`analysis.ensemble.select`, on the task's loss)
    over those of `trial_ids` whose saved validation predictions match the
    project's labels, of `size` different models (`distinct`, as NES's
    forward selection); `()` when none has.

    Args:
        tuner: The search's `engine.tuner.NASTuner`.
        kind: The task's kind (`data.task.Task.kind`).
    """
    cache = {}  # path -> (modification time, array)

    def load(path):
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            return None
        if path not in cache or cache[path][0] != stamp:
            cache[path] = (stamp, predictions.read(path))
        return cache[path][1]

    def select(trial_ids, size):
        labels = load(predictions.labels_path(tuner.project_dir))
        if labels is None:
            return ()
        found = {}
        for trial_id in trial_ids:
            array = load(predictions.predictions_path(
                tuner.get_trial_dir(trial_id)))
            if array is not None and len(array) == len(labels):
                found[trial_id] = array
        if not found:
            return ()
        return selection_module.select(found, labels, size, kind,
                                       distinct=True).members

    return select


def attach_selector(tuner, task):
    """Give the search's strategy its `ensemble_selector` if it evolves for
    an ensemble (`EvolutionOracle(ensemble_size=k)`)."""
    from keras_nas.strategies import strategy_of

    strategy = strategy_of(tuner.oracle)
    if getattr(strategy, "ensemble_size", None) is not None:
        strategy.ensemble_selector = population_selector(tuner, task.kind)


def read_record(project_dir):
    """The last ensemble's `ensemble.json` in `project_dir`, or `None`."""
    path = os.path.join(project_dir, ENSEMBLE)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def mark_members(records, project_dir):
    """`records` (`TrialRecord`s) with `ensemble_weight` set on the members
    of the last ensemble built in `project_dir` (`None` on the others)."""
    record = read_record(project_dir)
    weights = {} if record is None else dict(
        zip(record.get("members", []), record.get("weights", [])))
    for r in records:
        weight = weights.get(r.trial_id)
        r.ensemble_weight = None if weight is None else float(weight)
    return records


def describe(record):
    """Lines that say what an ensemble is and costs beside the single
    best (`summary()`, `keras-nas report`)."""
    members = ", ".join(f"trial {t} x{w:.2f}" for t, w in
                        zip(record["members"], record["weights"]))
    lines = [f"Ensemble ({ENSEMBLE}): {len(record['members'])} model(s) in "
             f"{len(record['picks'])} pick(s): {members}"]
    val, best = record["validation"], record["single_best"]
    figures = [f"{record['metric']} {val['ensemble']['loss']:.4f}"]
    if "accuracy" in val["ensemble"]:
        figures.append(f"accuracy {val['ensemble']['accuracy']:.4f}")
    line = "  validation: " + ", ".join(figures)
    if val.get("single_best"):
        single = val["single_best"]
        line += f" (single best, trial {best}: {single['loss']:.4f}" + (
            f", {single['accuracy']:.4f}" if "accuracy" in single else "") + ")"
    lines.append(line)
    cost, parts = record["cost"], []
    for name, unit in (("params", "params"), ("flops", "FLOPs"),
                       ("latency_ms", "ms")):
        ours, theirs = cost["ensemble"].get(name), cost["single_best"].get(name)
        if ours is not None and theirs is not None:
            fmt = "{:.3g}" if name == "latency_ms" else "{:,.0f}"
            parts.append(f"{fmt.format(ours)} {unit} (single best "
                         f"{fmt.format(theirs)})")
    if parts:
        lines.append("  cost: " + ", ".join(parts))
    if record.get("budget"):
        lines.append("  budget (" + record["budget_from"] + "): " + ", ".join(
            f"{k} <= {v:,g}" for k, v in record["budget"].items()))
    if record.get("skipped"):
        lines.append(f"  left out: {record['skipped']} completed trial(s) "
                     "without usable saved validation predictions")
    return lines


def export_info(results, record):
    """The JSON written beside an exported ensemble."""
    trials = {r.trial_id: r for r in results.results()}
    objective = primary_objective(results.tuner.oracle.objective)
    return {
        "kind": "ensemble",
        "members": [
            {"trial_id": t, "weight": w, "ops": trials[t].ops,
             "params": trials[t].params, "flops": trials[t].flops,
             "value": trials[t].value}
            for t, w in zip(record["members"], record["weights"])],
        "picks": record["picks"],
        "input_shape": list(results.space_.input_shape),
        "task": results.task_.get_config(),
        "objective": objective.name,
        "objectives": [o.name for o in results.objectives()],
        "params": record["cost"]["ensemble"]["params"],
        "flops": record["cost"]["ensemble"]["flops"],
        "validation": record["validation"],
        "cost": record["cost"],
        "budget": record["budget"],
        "space": results.space_.get_config(),
        "search": results.config.get_config(),
        "load": "import keras, keras_nas; keras.models.load_model(path)",
    }
