"""msgpack with numpy: arrays and numpy scalars travel as (dtype, shape, raw bytes).

An ndarray becomes msgpack ext type 1 and a numpy scalar ext type 2, each holding a msgpack
array [dtype.str, shape, bytes]. `dtype.str` carries the byte order ('<f4', '|u1', '<c16'), so
every numeric dtype round-trips exactly, in nested dicts and lists. Tuples come back as lists
(msgpack has one sequence type).
"""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np

from simfarm.errors import PolicyError

EXT_NDARRAY = 1
EXT_SCALAR = 2


def _encode_array(arr: np.ndarray) -> bytes:
    if arr.dtype.hasobject or arr.dtype.fields is not None:
        raise PolicyError(
            f"cannot encode numpy dtype {arr.dtype} (object or structured); accepted: bool, int*, uint*, float*, complex*"
        )
    # tobytes() copies in C order whatever the strides; ascontiguousarray would turn 0-d into 1-d.
    return msgpack.packb(
        [arr.dtype.str, list(arr.shape), arr.tobytes(order="C")], use_bin_type=True
    )


def _default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return msgpack.ExtType(EXT_NDARRAY, _encode_array(obj))
    if isinstance(obj, np.generic):
        return msgpack.ExtType(EXT_SCALAR, _encode_array(np.asarray(obj)))
    raise TypeError(
        f"cannot msgpack-encode {type(obj).__name__}; accepted: numbers, str, bytes, lists, dicts, numpy arrays and scalars"
    )


def _ext_hook(code: int, data: bytes) -> Any:
    if code not in (EXT_NDARRAY, EXT_SCALAR):
        return msgpack.ExtType(code, data)
    dtype_str, shape, raw = msgpack.unpackb(data, raw=False)
    # bytearray gives a writable array (policies may modify observations in place).
    arr = np.frombuffer(bytearray(raw), dtype=np.dtype(dtype_str)).reshape(tuple(shape))
    return arr[()] if code == EXT_SCALAR else arr


def packb(obj: Any) -> bytes:
    """Encode `obj` (nested dicts/lists of numbers, strings, numpy arrays) to msgpack bytes."""
    return msgpack.packb(obj, default=_default, use_bin_type=True)


def unpackb(data: bytes) -> Any:
    """Decode bytes written by `packb`; arrays come back with their exact dtype and shape."""
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
