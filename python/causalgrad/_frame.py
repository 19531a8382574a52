"""DataFrames to and from the columns the compiled module reads and writes.

A numeric or boolean column goes over as float64; a pandas categorical,
or an object or string column of text, as its level codes with the labels
beside them (labels in order of first appearance, or a categorical's own
category order). Results come back with the input's names and dtypes: a
boolean or integer column stays boolean or integer when its values are
whole, a categorical stays categorical with the same categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ._causalgrad import DataError

Column = Tuple[str, np.ndarray, Optional[List[str]]]


@dataclass(frozen=True)
class ColumnType:
    """What a column was, to give results the same dtype."""

    dtype: Any
    #: A categorical column's categories (their original objects).
    categories: Optional[List[Any]] = None


def _is_text(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def to_columns(
    data: pd.DataFrame, variables: Sequence[str], what: str = "data"
) -> Tuple[List[Column], Dict[str, ColumnType]]:
    """The model's columns of ``data``, and each one's type.

    Raises :class:`causalgrad.DataError` for a missing column, a missing
    value (NaN, None) or a column of values that are neither numbers,
    booleans nor text.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"{what} must be a pandas DataFrame with a column per variable; got {type(data).__name__}"
        )
    missing = [v for v in variables if v not in data.columns]
    if missing:
        raise DataError(
            f"{what} has no column for {', '.join(map(str, missing))}; "
            f"the model's variables are {', '.join(map(str, variables))} and the columns are "
            f"{', '.join(map(str, data.columns))}"
        )
    columns: List[Column] = []
    types: Dict[str, ColumnType] = {}
    for name in variables:
        series = data[name]
        if isinstance(series, pd.DataFrame):
            raise DataError(f"{what} has more than one column named `{name}`")
        values, labels, kind = _column(series, str(name), what)
        columns.append((str(name), aligned(values), labels))
        types[str(name)] = kind
    return columns, types


def aligned(values: Any) -> np.ndarray:
    """``values`` as a C-contiguous, aligned float64 array (a copy only when
    needed): columns unpickled from out-of-band buffers, as Dask and
    multiprocessing hand them over, can be unaligned views."""
    return np.require(values, dtype=np.float64, requirements=["C", "A"])


def _missing_row(series: pd.Series, mask: np.ndarray, name: str, what: str) -> DataError:
    position = int(np.flatnonzero(mask)[0])
    return DataError(
        f"{what}, column `{name}`, row {position + 1} (index {series.index[position]!r}): "
        f"a missing value (NaN or None); drop or fill missing values first "
        f"(e.g. data.dropna())"
    )


def _column(series: pd.Series, name: str, what: str) -> Tuple[np.ndarray, Optional[List[str]], ColumnType]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        if (codes < 0).any():
            raise _missing_row(series, codes < 0, name, what)
        categories = list(dtype.categories)
        return codes.astype(np.float64), [str(c) for c in categories], ColumnType(dtype, categories)
    if pd.api.types.is_bool_dtype(dtype):
        if series.isna().any():
            raise _missing_row(series, series.isna().to_numpy(), name, what)
        return series.to_numpy(dtype=np.float64), None, ColumnType(np.dtype(bool))
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            if np.isnan(values[bad]).all() or series.isna().any():
                raise _missing_row(series, np.isnan(values), name, what)
            position = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{what}, column `{name}`, row {position + 1} (index {series.index[position]!r}): "
                f"{values[position]} is not finite"
            )
        return values, None, ColumnType(dtype)
    if _is_text(dtype):
        objects = series.to_numpy(dtype=object)
        missing = pd.isna(objects)
        if missing.any():
            raise _missing_row(series, missing, name, what)
        not_text = [i for i, v in enumerate(objects) if not isinstance(v, str)]
        if not_text:
            i = not_text[0]
            raise DataError(
                f"{what}, column `{name}` has dtype {dtype} holding {type(objects[i]).__name__} values "
                f"(row {i + 1}: {objects[i]!r}); causalgrad reads numbers, booleans, text and pandas "
                f"categoricals: convert it, e.g. data['{name}'].astype(float) or .astype('category')"
            )
        codes, uniques = pd.factorize(objects, sort=False)
        labels = [str(u) for u in uniques]
        return codes.astype(np.float64), labels, ColumnType(dtype, labels)
    raise DataError(
        f"{what}, column `{name}` has dtype {dtype}; causalgrad reads numbers, booleans, text and "
        f"pandas categoricals: convert it first"
    )


def to_frame(
    columns: Sequence[Column],
    types: Dict[str, ColumnType],
    order: Optional[Sequence[str]] = None,
    index: Optional[pd.Index] = None,
) -> pd.DataFrame:
    """A DataFrame of the module's columns, each of its input's dtype
    where the values allow (``order`` lists the columns first)."""
    out: Dict[str, Any] = {}
    for name, values, labels in columns:
        out[name] = _restore(np.asarray(values), labels, types.get(name))
    names = [c[0] for c in columns]
    if order is not None:
        first = [n for n in order if n in out]
        names = first + [n for n in names if n not in first]
    frame = pd.DataFrame({n: out[n] for n in names})
    if index is not None and len(index) == len(frame):
        frame.index = index
    return frame


def _restore(values: np.ndarray, labels: Optional[List[str]], kind: Optional[ColumnType]) -> Any:
    if labels is not None:
        codes = values.astype(np.int64)
        if kind is not None and isinstance(kind.dtype, pd.CategoricalDtype):
            original = {str(c): c for c in kind.categories or []}
            objects = [original.get(label, label) for label in labels]
            categories = list(kind.categories or [])
            categories += [o for o in objects if o not in categories]
            picked = np.empty(len(codes), dtype=object)
            picked[:] = [objects[c] for c in codes]
            return pd.Categorical(picked, categories=categories, ordered=kind.dtype.ordered)
        if kind is not None and _is_text(kind.dtype):
            picked = np.empty(len(codes), dtype=object)
            picked[:] = [labels[c] for c in codes]
            return picked if kind.dtype == np.dtype(object) else pd.array(picked, dtype=kind.dtype)
        return pd.Categorical.from_codes(codes, categories=labels)
    if kind is None:
        return values
    dtype = kind.dtype
    whole = bool(np.all(values == np.round(values)))
    if dtype == np.dtype(bool):
        return values.astype(bool) if np.isin(values, (0.0, 1.0)).all() else values
    if pd.api.types.is_integer_dtype(dtype) and whole:
        try:
            return values.astype(dtype)
        except (TypeError, ValueError):
            return values
    if dtype == np.dtype(np.float32):
        return values.astype(np.float32)
    return values
