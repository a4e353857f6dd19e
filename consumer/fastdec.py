"""A specialised Avro decoder for the event records, returning what fastavro returns.

Why: decoding was about a seventh of the relay's CPU — ~24 µs per event in
``fastavro.schemaless_reader``, whose reader interprets the schema field by field (~0.45 µs per
field; the events have ~55, most of them ``["null", X]`` unions). :func:`compile_reader`
generates one straight-line Python function per writer schema instead, once: a null branch costs
a byte comparison, a short string a slice and a decode.

Nothing is guessed: the generated reader takes only a schema of the shapes it knows (records,
``["null", X]`` and other unions of those, string, bytes, boolean, int, long, float, double,
enum, array) without logical types — ``compile_reader`` returns ``None`` for anything else — and
raises :class:`Unreadable` at the first byte it does not expect (a union branch or enum index
out of range, a negative or overlong length, a boolean that is neither 0 nor 1, an int beyond 32
bits, a varint beyond 64 bits, invalid UTF-8, the end of the data). The caller then decodes that
message with fastavro, so every error and every edge case stays exactly fastavro's; a property
test holds the two equal on generated records and on corrupted ones.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

Reader = Callable[[bytes, int], tuple[Any, int]]
"""(data, start) -> (decoded value, the position after it)."""

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "string", "bytes"})
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1


class Unreadable(Exception):
    """Bytes the fast path does not decode; decode this message with fastavro instead."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint (Avro int/long) at ``pos``: (value, position after it); at most 10 bytes."""
    shift = 0
    acc = 0
    for _ in range(10):
        byte = data[pos]
        pos += 1
        acc |= (byte & 0x7F) << shift
        if byte < 0x80:
            if acc >= 1 << 64:
                raise Unreadable
            return (acc >> 1) ^ -(acc & 1), pos
        shift += 7
    raise Unreadable


class _Compiler:
    """Builds the reader's source; each value is read into a fresh variable ``v<n>``."""

    def __init__(self) -> None:
        self.named: dict[str, Any] = {}
        self.namespace: dict[str, Any] = {
            "U": Unreadable,
            "vi": _varint,
            "UD": struct.Struct("<d").unpack_from,
            "UF": struct.Struct("<f").unpack_from,
            "IMIN": _INT_MIN,
            "IMAX": _INT_MAX,
        }
        self._count = 0

    def _var(self, prefix: str = "v") -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _long(self, out: str) -> list[str]:
        return [
            "b = d[p]",
            "if b < 128:",
            "    p += 1",
            f"    {out} = (b >> 1) ^ -(b & 1)",
            "else:",
            f"    {out}, p = vi(d, p)",
        ]

    def _length(self, out: str) -> list[str]:
        """A non-negative length that fits in the data: its end position in ``e``. A one-byte
        even varint (most strings) is the length ``b >> 1`` as is; anything else is read whole."""
        return [
            "b = d[p]",
            "if not b & 129:",
            "    p += 1",
            "    e = p + (b >> 1)",
            "else:",
            f"    {out}, p = vi(d, p)",
            f"    if {out} < 0: raise U",
            f"    e = p + {out}",
            "if e > L: raise U",
        ]

    def value(self, schema: Any, out: str, namespace: str) -> list[str] | None:
        """Lines reading a value of ``schema`` into the variable ``out``, or None if unsupported."""
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                return self._primitive(schema, out)
            named = self.named.get(schema) or self.named.get(f"{namespace}.{schema}")
            if named is None:
                return None
            return self._named(named, out)
        if isinstance(schema, list):
            return self._union(schema, out, namespace)
        if not isinstance(schema, dict) or "logicalType" in schema:
            return None
        kind = schema.get("type")
        if kind in _PRIMITIVES:
            return self._primitive(kind, out)
        if kind in ("record", "enum"):
            name = str(schema.get("name", ""))
            space = str(schema.get("namespace", namespace) or "")
            full = name if "." in name or not space else f"{space}.{name}"
            if full in self.named:
                return None  # redefined: let fastavro decide
            self.named[full] = schema
            self.named.setdefault(name.rsplit(".", 1)[-1], schema)
            return self._named(schema, out)
        if kind == "array":
            return self._array(schema.get("items"), out, namespace)
        return None  # map, fixed, anything else

    def _primitive(self, kind: str, out: str) -> list[str]:
        if kind == "null":
            return [f"{out} = None"]
        if kind == "boolean":
            return ["b = d[p]", "p += 1", "if b > 1: raise U", f"{out} = b == 1"]
        if kind in ("int", "long"):
            lines = self._long(out)
            if kind == "int":
                lines.append(f"if not IMIN <= {out} <= IMAX: raise U")
            return lines
        if kind in ("float", "double"):
            size, unpack = (8, "UD") if kind == "double" else (4, "UF")
            return [f"if p + {size} > L: raise U", f"{out} = {unpack}(d, p)[0]", f"p += {size}"]
        n = self._var("n")
        decode = ".decode()" if kind == "string" else ""
        return [*self._length(n), f"{out} = d[p:e]{decode}", "p = e"]

    def _named(self, schema: Mapping[str, Any], out: str) -> list[str] | None:
        name = str(schema.get("name", ""))
        space = name.rsplit(".", 1)[0] if "." in name else str(schema.get("namespace", "") or "")
        if schema.get("type") == "enum":
            symbols = self._var("S")
            self.namespace[symbols] = tuple(schema.get("symbols", ()))
            index = self._var("i")
            check = f"if not 0 <= {index} < len({symbols}): raise U"
            return [*self._long(index), check, f"{out} = {symbols}[{index}]"]
        lines: list[str] = []
        items: list[str] = []
        for spec in schema.get("fields", ()):
            field = self._var()
            body = self.value(spec["type"], field, space)
            if body is None:
                return None
            lines += body
            items.append(f"{spec['name']!r}: {field}")
        # one dict display at the end: built in one step, not one store per field
        return [*lines, f"{out} = {{{', '.join(items)}}}"]

    def _union(self, branches: list[Any], out: str, namespace: str) -> list[str] | None:
        if len(branches) == 2 and branches[0] == "null":  # the usual optional field: one byte
            body = self.value(branches[1], out, namespace)
            if body is None:
                return None
            return [
                "b = d[p]",
                "p += 1",
                "if b == 0:",
                f"    {out} = None",
                "elif b == 2:",
                *("    " + x for x in body),
                "else:",
                "    raise U",
            ]
        index = self._var("i")
        lines = self._long(index)
        for position, branch in enumerate(branches):
            body = self.value(branch, out, namespace)
            if body is None:
                return None
            keyword = "if" if position == 0 else "elif"
            lines += [f"{keyword} {index} == {position}:", *("    " + x for x in body)]
        return [*lines, "else:", "    raise U"]

    def _array(self, items: Any, out: str, namespace: str) -> list[str] | None:
        item = self._var()
        count = self._var("c")
        body = self.value(items, item, namespace)
        if body is None:
            return None
        return [
            f"{out} = []",
            "while True:",
            *("    " + x for x in self._long(count)),
            f"    if {count} == 0: break",
            f"    if {count} < 0:",
            f"        {count} = -{count}",
            *("        " + x for x in self._long("_")),  # the block's size in bytes: unused
            f"    for _ in range({count}):",
            *("        " + x for x in body),
            f"        {out}.append({item})",
        ]


def compile_reader(schema: Mapping[str, Any]) -> Reader | None:
    """A reader for data written with ``schema`` (a record, as JSON or as fastavro parsed it), or
    None if the schema has a shape the generated reader does not cover."""
    if not isinstance(schema, Mapping) or schema.get("type") != "record":
        return None
    compiler = _Compiler()
    body = compiler.value(dict(schema), "v0", str(schema.get("namespace", "") or ""))
    if body is None:
        return None
    lines = ["def read(d, p):", "    L = len(d)", "    try:"]
    lines += ["        " + line for line in body]
    lines += [
        "    except (IndexError, ValueError, UnicodeDecodeError, OverflowError):",
        "        raise U from None",
        "    return v0, p",
    ]
    namespace = compiler.namespace
    exec("\n".join(lines), namespace)  # the source is built above from the schema's shapes only
    reader: Reader = namespace["read"]
    return reader
