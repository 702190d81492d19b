"""The pipeline rule of the package docstring: a module imports only from
the stages before it (`_atomic`, `_checks`, `_compat` serve them all)."""

import ast
import os

import keras_nas

PACKAGE = os.path.dirname(keras_nas.__file__)
HELPERS = {"_atomic", "_checks", "_compat"}
# Imports that reach forward, inside functions, as the package docstring
# says: a `tf.data.Dataset` goes to the one TensorFlow-only module, and the
# plots (an optional extra) read a finished search back.
DEFERRED = {("data", "tf_only"), ("found", "report")}


def _pipeline():
    text = keras_nas.__doc__.split("The pipeline")[1].split("(`_atomic`")[0]
    return [name.strip() for name in text.split(":", 1)[1].split("->")]


def _imports(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "keras_nas":
                for a in node.names:  # A module, or an exported name.
                    module = keras_nas._EXPORTS.get(a.name, "keras_nas."
                                                    + a.name)
                    yield module.split(".")[1]
            elif node.module.startswith("keras_nas."):
                yield node.module.split(".")[1]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("keras_nas."):
                    yield a.name.split(".")[1]


def test_every_module_is_a_stage():
    stages = _pipeline()
    modules = {f[:-3] for f in os.listdir(PACKAGE)
               if f.endswith(".py") and f != "__init__.py"} | {"oracles", "ops"}
    assert modules - HELPERS == set(stages)


def test_modules_import_only_from_earlier_stages():
    stages = _pipeline()
    order = {name: i for i, name in enumerate(stages)}
    wrong = []
    for name in stages:
        path = os.path.join(PACKAGE, name + ".py")
        paths = [path] if os.path.exists(path) else [
            os.path.join(PACKAGE, name, f)
            for f in os.listdir(os.path.join(PACKAGE, name))
            if f.endswith(".py")]
        for p in paths:
            for imported in _imports(p):
                if imported in HELPERS or imported == name or (
                        name, imported) in DEFERRED:
                    continue
                if imported not in order or order[imported] > order[name]:
                    wrong.append(f"{name} imports {imported}")
    assert not wrong, wrong
