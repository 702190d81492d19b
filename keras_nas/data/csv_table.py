"""A CSV file as `fit` takes it (`keras-nas search --data FILE.csv
--target COLUMN`): the target column as the labels, and the other columns
as a float array when every cell is a number, else as a table of columns
(numbers with NaN for empty cells, strings with None), which `fit`
preprocesses (`data.raw`, docs/data.md). The standard library's `csv`
reads it; pandas is not needed.
"""

import csv

import numpy as np

__all__ = ["read_csv"]


def read_csv(path, target):
    """`(x, y)` of the CSV at `path`, `y` its column `target`.

    Args:
        path: The CSV file, with a header row.
        target: The name of the label (target) column.

    Raises:
        ValueError: no data rows, no column `target`, or a row of another
            length than the header.
    """
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise ValueError(f"{path} holds no data rows")
    header, body = rows[0], rows[1:]
    if target not in header:
        raise ValueError(
            f"no target column {target!r} in {path}; its columns are "
            f"{header}")
    uneven = [n for n, r in enumerate(body, 2) if len(r) != len(header)]
    if uneven:
        raise ValueError(
            f"{path}: line {uneven[0]} has {len(body[uneven[0] - 2])} "
            f"cells, its header {len(header)}")
    i = header.index(target)
    columns = {name: _column([r[j] for r in body])
               for j, name in enumerate(header) if j != i}
    if all(c.dtype != object and not np.isnan(c).any()
           for c in columns.values()):
        x = np.stack(list(columns.values()), axis=1).astype("float32")
    else:
        x = columns
    return x, _labels(np.array([r[i] for r in body]))


def _column(cells):
    """Floats (NaN for empty cells) when every filled cell is a number,
    else strings (None for empty cells)."""
    try:
        return np.array([float(v) if v.strip() else np.nan for v in cells],
                        dtype="float64")
    except ValueError:
        return np.array([v if v.strip() else None for v in cells],
                        dtype=object)


def _labels(y):
    """Integers, floats, or string class labels."""
    try:
        as_float = y.astype("float64")
    except ValueError:
        return y  # String class labels.
    if (as_float == np.round(as_float)).all():
        return as_float.astype("int64")
    return as_float
