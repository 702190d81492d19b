"""The `>>>` examples in the package's docstrings run, as written."""

import doctest
import importlib

import pytest

MODULES = ["keras_nas.space", "keras_nas.builder", "keras_nas.task",
           "keras_nas.halving", "keras_nas.architecture", "keras_nas.ops"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
