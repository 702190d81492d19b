"""Argument checks shared by the public constructors."""

import numpy as np

__all__ = ["check_budget", "check_int", "check_seconds"]


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


def check_seconds(name, value):
    """`value` as positive seconds, `None` kept, or a `ValueError`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not value > 0:
        raise ValueError(
            f"`{name}` must be a positive number of seconds or None. "
            f"Received: {name}={value!r}.")
    return float(value)


def check_budget(name, value, unit):
    """`value` if it is `None` or a number of at least 1, else a
    `ValueError` naming the argument and its unit."""
    if value is not None and (isinstance(value, bool)
                              or not isinstance(value, (int, float, np.number))
                              or not value >= 1):
        raise ValueError(
            f"`{name}` must be a positive number of {unit} or None. "
            f"Received: {name}={value!r}.")
    return value
