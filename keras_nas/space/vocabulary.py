"""Resolving what `SearchSpace(ops=..., kind=..., learning_rate=...)`
names: a vocabulary's name, op names or factories become the space's op
table (name -> `ops.Op`), with the errors that say what is accepted.
"""

import difflib

import numpy as np

from keras_nas import ops as ops_module

__all__ = ["KINDS", "DEFAULT_LEARNING_RATES", "check_kind",
           "check_learning_rate", "make_op_table", "token_vocabulary_size"]

#: The kinds of data a space can be for. `text` is integer tokens of shape
#: `(steps,)`; the others follow from the rank of one sample.
KINDS = ("image", "sequence", "text", "tabular")

DEFAULT_LEARNING_RATES = (1e-2, 3e-3, 1e-3, 3e-4)


def check_kind(ops, kind):
    """The space's kind: `kind`, or the named vocabulary's."""
    if kind is not None and kind not in KINDS:
        raise ValueError(
            f"`kind` must be one of {KINDS} or None. Received: "
            f"kind={kind!r}."
        )
    if isinstance(ops, str):
        if ops not in ops_module.VOCABULARIES:
            raise TypeError(
                "`ops` must be None, the name of a vocabulary, a list of "
                "op names or a mapping from op name to factory. Received "
                f"the string ops={ops!r}; wrap it in a list, or name a "
                f"vocabulary: {sorted(ops_module.VOCABULARIES)}."
            )
        named = ops.rsplit("-", 1)[0]
        if kind is not None and kind != named:
            raise ValueError(
                f"`kind` and the vocabulary's kind must agree. Received: "
                f"kind={kind!r}, ops={ops!r}."
            )
        return named
    return kind


def make_op_table(ops):
    """The op table of `ops`, or `None` for the data's default vocabulary."""
    if ops is None:
        return None
    if isinstance(ops, str):
        ops = ops_module.vocabulary(ops)
    table = {}
    if isinstance(ops, dict):
        items = ops.items()
    else:
        try:
            items = [(name, None) for name in ops]
        except TypeError:
            raise TypeError(
                "`ops` must be None, a list of op names or a mapping from "
                f"op name to factory. Received: ops={ops!r} (of type "
                f"{type(ops).__name__})."
            ) from None
    for name, factory in items:
        if name in table:
            raise ValueError(
                f"`ops` lists {name!r} twice. Received: ops={list(ops)}."
            )
        if factory is None:
            if not isinstance(name, str) or name not in ops_module.names():
                close = difflib.get_close_matches(
                    str(name), ops_module.names(), n=5)
                raise ValueError(
                    f"Unknown op name {name!r} in `ops`. Accepted: one "
                    f"of the {len(ops_module.names())} registered ops "
                    "(`keras_nas.ops.names()`"
                    + (f"; closest: {close}" if close else "")
                    + "), or a mapping from a new name to its layer "
                    "factory."
                )
            table[name] = ops_module.get(name)
        elif isinstance(factory, ops_module.Op):
            table[name] = factory
        else:
            table[name] = ops_module.make_op(name, factory)
    if not table:
        raise ValueError(
            "`ops` is empty: a search space needs at least one op. "
            "Received: ops=" + repr(ops) + ". Pass None for the default "
            "vocabulary."
        )
    return table


def check_learning_rate(learning_rate):
    """The rates searched over, or `None` for the optimizer's own."""
    if learning_rate is False or learning_rate is None:
        return None
    if learning_rate is True:
        return list(DEFAULT_LEARNING_RATES)
    try:
        rates = [float(r) for r in learning_rate]
    except (TypeError, ValueError):
        rates = []
    if not rates or min(rates) <= 0:
        raise ValueError(
            "`learning_rate` must be True, False or a non-empty list of "
            f"positive rates. Received: learning_rate={learning_rate!r}."
        )
    return rates


def token_vocabulary_size(x, vocabulary_size=None):
    """The number of token ids of a text space that meets token ids `x`:
    `max(x) + 1` (ids count from 0) when it has none, else its own, checked
    to hold every id."""
    x = np.asarray(x)
    if x.size == 0:
        return vocabulary_size
    low, high = float(x.min()), float(x.max())
    if low < 0 or not np.all(np.mod(x, 1) == 0):
        raise ValueError(
            "A text space needs non-negative integer token ids. Received: "
            f"x with values in [{low}, {high}].")
    if vocabulary_size is None:
        return int(high) + 1
    if high >= vocabulary_size:
        raise ValueError(
            f"Token id {int(high)} does not fit the vocabulary. Received: "
            f"vocabulary_size={vocabulary_size}; pass at least "
            f"{int(high) + 1}, or None to infer it.")
    return vocabulary_size
