"""The `>>>` examples in the package's docstrings run, as written."""

import doctest
import importlib

import pytest

MODULES = ["keras_nas.space.search_space", "keras_nas.space.builder",
           "keras_nas.data.task", "keras_nas.schedulers.halving",
           "keras_nas.space.architecture", "keras_nas.ops"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
