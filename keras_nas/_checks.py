"""Argument checks shared by the public constructors."""

import numpy as np

__all__ = ["check_int"]


def check_int(name, value, minimum):
    """`value` as an int, or a `ValueError` naming the argument and the rule."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
        value < minimum
    ):
        raise ValueError(
            f"`{name}` must be an integer of at least {minimum}. Received: "
            f"{name}={value!r}."
        )
    return int(value)
