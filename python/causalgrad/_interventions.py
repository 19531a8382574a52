"""Interventions as users write them, for the compiled module.

A value is a constant (``{"t": 1.0}``, ``{"colour": "red"}``) or a
function of the variable's values (``{"t": lambda x: x + 0.5}``,
DoWhy's ``{"t": lambda x: 1.0}``). A function is called once per
variable with the whole column as a numpy array (a categorical
variable's labels, as objects); it may return a scalar (the same value
for every row) or an array of one value per row. A function written for
one value at a time (``math.exp(x)``) that fails on an array is called
row by row instead.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from . import _frame
from ._causalgrad import DataError, ModelError, RawModel

Constants = List[Tuple[str, Any]]
Functions = List[Tuple[str, Callable[[np.ndarray], np.ndarray]]]


def split(raw: RawModel, interventions: Optional[Mapping[Any, Any]]) -> Tuple[Constants, Functions]:
    """The constants and the column functions of ``interventions``."""
    if interventions is None:
        return [], []
    if not isinstance(interventions, Mapping):
        raise ModelError(
            "interventions must be a dict keyed by variable, e.g. {'t': 1.0} or {'t': lambda x: x + 0.5}; "
            f"got {type(interventions).__name__}"
        )
    constants: Constants = []
    functions: Functions = []
    for variable, value in interventions.items():
        name = str(variable)
        if callable(value):
            functions.append((name, _column_function(raw, name, value)))
        elif isinstance(value, (bool, np.bool_)):
            constants.append((name, float(value)))
        elif isinstance(value, (int, float, np.integer, np.floating)):
            constants.append((name, float(value)))
        elif isinstance(value, str):
            constants.append((name, value))
        else:
            constants.append((name, str(value)))
    return constants, functions


def _column_function(raw: RawModel, variable: str, function: Callable[..., Any]) -> Callable[[np.ndarray], np.ndarray]:
    kind, levels = raw.kind(variable)

    def column(values: np.ndarray) -> np.ndarray:
        given: np.ndarray
        if levels is not None:
            given = np.asarray(levels, dtype=object)[values.astype(np.int64)]
        else:
            given = values
        result = _call(function, given, variable)
        if levels is None:
            return _frame.aligned(result)
        code = {label: i for i, label in enumerate(levels)}
        try:
            return np.fromiter((code[str(v)] for v in result), dtype=np.float64, count=len(result))
        except KeyError as error:
            raise DataError(
                f"the intervention on `{variable}` returned the label {error.args[0]!r}, which is not one of "
                f"its levels: {', '.join(levels)}"
            ) from None

    return column


def _call(function: Callable[..., Any], values: np.ndarray, variable: str) -> np.ndarray:
    n = len(values)
    try:
        result = np.asarray(function(values))
    except Exception:  # a function of one value at a time: apply it row by row
        result = np.asarray([function(v) for v in values])
    if result.ndim == 0:
        return np.full(n, result.item(), dtype=result.dtype if result.dtype != object else object)
    if result.shape != (n,):
        raise ModelError(
            f"the intervention on `{variable}` must return one value, or one per row; "
            f"it returned shape {result.shape} for {n} rows"
        )
    return result
