"""The pipeline rule of the package docstring: the package is one folder a
stage, and a stage imports only from the stages before it (`_atomic`,
`_checks`, `_compat` serve them all)."""

import ast
import os

import keras_nas

PACKAGE = os.path.dirname(keras_nas.__file__)
HELPERS = {"_atomic", "_checks", "_compat"}


def _stage_of(module):
    """The stage of a dotted module name under keras_nas (None: a helper)."""
    if module in keras_nas._EXPORTS:  # `from keras_nas import NASSearch`
        module = keras_nas._EXPORTS[module]
    elif module in keras_nas._MODULES:
        module = keras_nas._MODULES[module]
    else:
        module = "keras_nas." + module
    first = module.split(".")[1]
    return None if first in HELPERS else first


def _imports(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "keras_nas":
                for a in node.names:
                    yield _stage_of(a.name)
            elif node.module.startswith("keras_nas."):
                yield _stage_of(node.module[len("keras_nas."):])
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("keras_nas."):
                    yield _stage_of(a.name[len("keras_nas."):])


def _files():
    """(stage, path) of every module of the package but its __init__."""
    for root, _, names in os.walk(PACKAGE):
        for name in names:
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, PACKAGE)
            if rel == "__init__.py":
                continue
            yield rel.split(os.sep)[0].removesuffix(".py"), path


def test_every_module_is_in_a_stage():
    loose = {stage for stage, _ in _files()} - set(keras_nas.STAGES) - HELPERS
    assert not loose, f"modules outside the stage folders: {sorted(loose)}"
    folders = {d for d in os.listdir(PACKAGE)
               if os.path.isdir(os.path.join(PACKAGE, d))
               and not d.startswith("__")}
    assert folders == set(keras_nas.STAGES) - {"cli"}


def test_stages_import_only_from_earlier_stages():
    order = {name: i for i, name in enumerate(keras_nas.STAGES)}
    wrong = set()
    for stage, path in _files():
        if stage in HELPERS:
            continue
        for imported in _imports(path):
            if imported is not None and order[imported] > order[stage]:
                wrong.add(f"{os.path.relpath(path, PACKAGE)} imports "
                          f"the {imported} stage")
    assert not wrong, sorted(wrong)


def test_a_forward_import_is_caught(tmp_path):
    # The rule can fail: an ops module that imported the engine would.
    path = tmp_path / "bad.py"
    path.write_text("from keras_nas.engine import tuner\n")
    assert list(_imports(str(path))) == ["engine"]
