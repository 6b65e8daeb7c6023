"""Minimal safetensors reader for the bench references (the safetensors package is not in Debian).

load(path) -> (tensors: {name: numpy array}, metadata: {str: str}); the format as in
tools/fixtures/_st.py (8-byte little-endian header length, JSON header, raw little-endian data).
"""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
           "I32": np.int32, "U8": np.uint8}


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        dt = np.dtype(_DTYPES[e["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[a:b], dtype=dt).reshape(e["shape"]).copy()
    return out, meta
