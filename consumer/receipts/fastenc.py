"""A specialised Avro encoder for flat records like the receipt, byte-identical to fastavro's.

Why: the relay writes one receipt per (event, platform) — three per event with a 3-platform
fan-out — and ``fastavro.schemaless_writer`` spent ~15 µs on each, mostly resolving the twelve
``["null", X]`` unions branch by branch. The receipt schema only uses a handful of shapes
(string, boolean, int, long incl. ``timestamp-millis`` given as epoch ms, arrays of strings, and
unions of null with one of those), so :func:`compile_record` generates one straight-line Python
function for the schema, once; values of a small vocabulary (platform, outcome, stage, key
names, topics) are encoded once and reused.

Nothing is guessed: ``compile_record`` returns ``None`` for a schema with any other shape, and
the generated encoder raises :class:`Unsupported` for a value of an unexpected Python type (a
``datetime`` timestamp, an out-of-range int, a missing required field); the caller then encodes
that record with fastavro, so defaults and errors stay exactly fastavro's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Encoder = Callable[[Mapping[str, Any]], bytes]

_VOCABULARY_MAX = 512  # cached string encodings per vocabulary field; beyond it, encode each time
_SMALL = tuple(bytes((i << 1,)) for i in range(64))  # zig-zag varints of 0..63: one byte each
_LIMITS = {"int": 1 << 31, "long": 1 << 63}


class Unsupported(Exception):
    """The value does not fit the fast path; encode this record with fastavro instead."""


def varint(n: int) -> bytes:
    """Avro ``int``/``long`` encoding: zig-zag, then base-128 little-endian varint."""
    if 0 <= n < 64:
        return _SMALL[n]
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _base(avro_type: Any) -> str | None:
    """'string' | 'int' | 'long' | 'boolean' | 'array' (of strings), or None if unsupported."""
    if isinstance(avro_type, dict):
        base = avro_type.get("type")
        logical = avro_type.get("logicalType")
        if base == "array":
            return "array" if avro_type.get("items") == "string" else None
        if logical is None or (base == "long" and logical == "timestamp-millis"):
            avro_type = base
        else:
            return None
    return avro_type if avro_type in ("string", "int", "long", "boolean") else None


def _value_code(base: str, name: str, cached: bool) -> list[str]:
    """Lines appending the encoding of ``v`` (a value of type ``base``) to the output."""
    if base == "string":
        if cached:
            return [
                f"c = V_{name}.get(v) if type(v) is str else None",
                "if c is None:",
                "    c = s(v)",
                f"    if len(V_{name}) < {_VOCABULARY_MAX}: V_{name}[v] = c",
                "a(c)",
            ]
        return ["a(s(v))"]
    if base in _LIMITS:
        limit = _LIMITS[base]
        return [f"if type(v) is not int or not {-limit} <= v < {limit}: raise U", "a(vi(v))"]
    if base == "boolean":
        return ["if type(v) is not bool: raise U", "a(b'\\x01' if v else b'\\x00')"]
    # array of strings
    return [
        "if type(v) is not list and type(v) is not tuple: raise U",
        "if v:",
        "    a(vi(len(v)))",
        "    for x in v:",
        "        c = VA.get(x) if type(x) is str else None",
        "        if c is None:",
        "            c = s(x)",
        f"            if len(VA) < {_VOCABULARY_MAX}: VA[x] = c",
        "        a(c)",
        "a(b'\\x00')",
    ]


def _string(value: Any) -> bytes:
    if type(value) is not str:
        raise Unsupported
    data = value.encode()
    return varint(len(data)) + data


def compile_record(schema: Mapping[str, Any], vocabulary: frozenset[str] = frozenset()) -> Encoder | None:
    """An encoder for records of ``schema`` (a JSON schema dict), or None if some field is outside
    the supported shapes. Fields named in ``vocabulary`` have few distinct values and their
    encodings are cached. The encoder raises :class:`Unsupported` for unexpected values."""
    if schema.get("type") != "record":
        return None
    lines = ["def encode(r):", "    out = []", "    a = out.append", "    try:"]
    namespace: dict[str, Any] = {"U": Unsupported, "vi": varint, "s": _string, "VA": {}, "MISSING": object()}
    for index, spec in enumerate(schema["fields"]):
        name, avro_type = spec["name"], spec["type"]
        key = f"V_{index}"
        namespace[key] = {}
        optional = isinstance(avro_type, list)
        if optional:
            if len(avro_type) != 2 or avro_type[0] != "null" or spec.get("default", 0) is not None:
                return None
            avro_type = avro_type[1]
        base = _base(avro_type)
        if base is None:
            return None
        body = _value_code(base, str(index), name in vocabulary)
        if optional:
            code = [f"v = r.get({name!r})", "if v is None:", "    a(b'\\x00')", "else:", "    a(b'\\x02')"]
            code += ["    " + line for line in body]
        elif "default" in spec:
            namespace[f"D_{index}"] = spec["default"]
            code = [f"v = r.get({name!r}, MISSING)", "if v is MISSING:", f"    v = D_{index}", *body]
        else:
            code = [f"v = r[{name!r}]", *body]
        lines += ["        " + line for line in code]
    lines += ["    except (KeyError, TypeError, AttributeError):", "        raise U from None"]
    lines += ["    return b''.join(out)"]
    exec("\n".join(lines), namespace)  # the source is built above from the schema's shapes only
    encoder: Encoder = namespace["encode"]
    return encoder
