"""Helpers shared by the analysis modules: accept scalars, arrays and Series alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["CHUNK", "ArrayLike", "FloatArray", "as_float_array", "chunked", "wrap_like"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
#: What the vectorised functions accept: a number, a sequence, a numpy array or a Series.
ArrayLike: TypeAlias = "float | int | npt.ArrayLike | pd.Series[Any] | None"


def as_float_array(value: Any) -> FloatArray:
    """``value`` as a float64 array; ``None``, ``pd.NA`` and non-numbers become NaN."""
    if isinstance(value, pd.Index):
        value = pd.Series(value)
    if isinstance(value, pd.Series):
        numeric = pd.to_numeric(value, errors="coerce")
        return np.asarray(numeric.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    if value is None or value is pd.NA:
        return np.array(np.nan)
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        obj = np.asarray(value, dtype=object)
        flat = pd.to_numeric(pd.Series(obj.ravel()), errors="coerce")
        arr = np.asarray(flat.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        return arr.reshape(obj.shape)


def wrap_like(result: np.ndarray[Any, Any], *inputs: Any, name: str | None = None) -> Any:
    """Return ``result`` in the kind of the inputs.

    A pandas Series among the inputs gives a Series with its index (the first Series wins);
    otherwise an array input gives an array and all-scalar inputs give a Python scalar.
    """
    for value in inputs:
        if isinstance(value, pd.Series):
            return pd.Series(result, index=value.index, name=name)
    if all(np.ndim(v) == 0 and not isinstance(v, np.ndarray) for v in inputs):
        return np.asarray(result).item()
    return result


#: Elements per chunk in :func:`chunked`: the temporaries of a chunk stay in CPU cache.
CHUNK = 1 << 15


def chunked(kernel: Callable[..., FloatArray], *arrays: FloatArray) -> FloatArray:
    """``kernel(*arrays)`` (broadcast) evaluated in chunks of :data:`CHUNK` elements.

    Element-wise kernels build several temporaries; over millions of rows they stream
    through main memory, in chunks they stay in cache. Small or multi-dimensional inputs
    are passed whole.
    """
    parts = np.broadcast_arrays(*arrays)
    shape = parts[0].shape
    if len(shape) != 1 or shape[0] <= CHUNK:
        return np.asarray(kernel(*parts), dtype=np.float64)
    out = np.empty(shape, dtype=np.float64)
    for lo in range(0, shape[0], CHUNK):
        hi = lo + CHUNK
        out[lo:hi] = kernel(*(p[lo:hi] for p in parts))
    return out
