"""A specialised Avro encoder for simple records like the receipt, byte-identical to fastavro's.

Why: the relay writes one receipt per (event, platform) — three per event with a 3-platform
fan-out — and ``fastavro.schemaless_writer`` spent ~15 µs on each, mostly resolving the twelve
``["null", X]`` unions branch by branch. The receipt schema only uses a handful of shapes
(string, boolean, int, long incl. ``timestamp-millis`` given as epoch ms, arrays of strings,
records of those — ``replay_of`` — and unions of null with one of those), so
:func:`compile_record` generates one straight-line Python function for the schema, once; values
of a small vocabulary (platform, outcome, stage, key names, topics) are encoded once and reused.

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
# Varint groups as ready bytes: 14 bits as two continued bytes (a millisecond timestamp takes
# three lookups instead of six shift-and-append steps), 7 bits continued or last. ~0.7 MB once.
_GROUP14 = tuple(bytes(((x & 0x7F) | 0x80, (x >> 7) | 0x80)) for x in range(1 << 14))
_GROUP7 = tuple(bytes((x | 0x80,)) for x in range(1 << 7))
_LAST7 = tuple(bytes((x,)) for x in range(1 << 7))


class Unsupported(Exception):
    """The value does not fit the fast path; encode this record with fastavro instead."""


def varint(n: int) -> bytes:
    """Avro ``int``/``long`` encoding: zig-zag, then base-128 little-endian varint."""
    if 0 <= n < 64:
        return _SMALL[n]
    z = (n << 1) ^ (n >> 63)
    out = b""
    while z >= 0x4000:
        out += _GROUP14[z & 0x3FFF]
        z >>= 14
    if z >= 0x80:
        return out + _GROUP7[z & 0x7F] + _LAST7[z >> 7]
    return out + _LAST7[z]


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


def _value_code(base: str, name: str, cached: bool, lead: bytes = b"") -> list[str]:
    """Lines appending ``lead`` (a union's branch index, or nothing) and the encoding of ``v``
    (a value of type ``base``) to the output. A cached string's entry includes the lead."""
    if base == "string" and cached:
        return [
            f"c = V_{name}.get(v) if type(v) is str else None",
            "if c is None:",
            f"    c = {lead!r} + s(v)",
            f"    if len(V_{name}) < {_VOCABULARY_MAX}: V_{name}[v] = c",
            "a(c)",
        ]
    lines = [f"a({lead!r})"] if lead else []
    if base == "string":  # inline: no call, no concatenation (most strings are short)
        return [
            *lines,
            "if type(v) is not str: raise U",
            "d = v.encode()",
            "n = len(d)",
            "a(SM[n] if n < 64 else vi(n))",
            "a(d)",
        ]
    if base in _LIMITS:
        limit = _LIMITS[base]
        return [
            *lines,
            f"if type(v) is not int or not {-limit} <= v < {limit}: raise U",
            "a(SM[v] if 0 <= v < 64 else vi(v))",
        ]
    if base == "boolean":
        return [*lines, "if type(v) is not bool: raise U", "a(b'\\x01' if v else b'\\x00')"]
    # array of strings
    return [
        *lines,
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


class _Compiler:
    """Builds the encoder's source, one field at a time; nested records recurse with their own
    record variable (``r``, ``r1``, ``r2`` ...) so an inner value never clobbers an outer one."""

    def __init__(self, vocabulary: frozenset[str]) -> None:
        self.vocabulary = vocabulary
        self.namespace: dict[str, Any] = {
            "U": Unsupported,
            "vi": varint,
            "s": _string,
            "SM": _SMALL,
            "VA": {},
            "MISSING": object(),
        }
        self._count = 0

    def record(self, schema: Mapping[str, Any], var: str, depth: int, prefix: str) -> list[str] | None:
        """Lines encoding every field of the record held in ``var``, or None if unsupported."""
        lines: list[str] = []
        for spec in schema.get("fields", ()):
            code = self.field(spec, var, depth, prefix)
            if code is None:
                return None
            lines += code
        return lines

    def field(self, spec: Mapping[str, Any], var: str, depth: int, prefix: str) -> list[str] | None:
        """Lines encoding one field of the record in ``var`` (its value goes through ``v``)."""
        name, avro_type = spec["name"], spec["type"]
        index = self._count
        self._count += 1
        self.namespace[f"V_{index}"] = {}
        optional = isinstance(avro_type, list)
        if optional:
            if len(avro_type) != 2 or avro_type[0] != "null" or spec.get("default", 0) is not None:
                return None
            avro_type = avro_type[1]
        body = self.value(avro_type, str(index), depth, f"{prefix}{name}", b"\x02" if optional else b"")
        if body is None:
            return None
        if optional:
            code = [f"v = {var}.get({name!r})", "if v is None:", "    a(b'\\x00')"]
            return code + ["else:"] + ["    " + line for line in body]
        if "default" in spec:
            self.namespace[f"D_{index}"] = spec["default"]
            return [f"v = {var}.get({name!r}, MISSING)", "if v is MISSING:", f"    v = D_{index}", *body]
        return [f"v = {var}[{name!r}]", *body]

    def value(self, avro_type: Any, index: str, depth: int, path: str, lead: bytes) -> list[str] | None:
        """Lines encoding ``lead`` and ``v`` of ``avro_type``; a nested record becomes its own
        variable."""
        if isinstance(avro_type, dict) and avro_type.get("type") == "record":
            inner = f"r{depth + 1}"
            fields = self.record(avro_type, inner, depth + 1, f"{path}.")
            if fields is None:
                return None
            lines = [f"a({lead!r})"] if lead else []
            return [*lines, "if type(v) is not dict: raise U", f"{inner} = v", *fields]
        base = _base(avro_type)
        if base is None:
            return None
        return _value_code(base, index, path in self.vocabulary, lead)


def compile_record(schema: Mapping[str, Any], vocabulary: frozenset[str] = frozenset()) -> Encoder | None:
    """An encoder for records of ``schema`` (a JSON schema dict), or None if some field is outside
    the supported shapes. Fields named in ``vocabulary`` (``outer.inner`` for a nested record's
    field) have few distinct values and their encodings are cached. The encoder raises
    :class:`Unsupported` for unexpected values (a non-dict nested record included)."""
    if schema.get("type") != "record":
        return None
    compiler = _Compiler(vocabulary)
    body = compiler.record(schema, "r", 0, "")
    if body is None:
        return None
    lines = ["def encode(r):", "    out = []", "    a = out.append", "    try:"]
    lines += ["        " + line for line in body]
    lines += ["    except (KeyError, TypeError, AttributeError):", "        raise U from None"]
    lines += ["    return b''.join(out)"]
    namespace = compiler.namespace
    exec("\n".join(lines), namespace)  # the source is built above from the schema's shapes only
    encoder: Encoder = namespace["encode"]
    return encoder
