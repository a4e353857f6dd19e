"""SHA-256 of normalised identifiers, memoised by (rule, raw value) across the platforms of an event.

Why a memo: one event's email, phone, names and address reach every routed platform, and each
platform that uses the same canonical form (the same normalisation rule) needs the same hash. A
rule is a normaliser: one of ``connectors.normalize``'s pure functions, or one bound to its extra
argument with ``bound()`` (the phone region, whether a country is the US). ``bound()`` hands out
one object per (function, arguments), so the memo recognises the rule each time a connector asks
and the value is normalised and hashed once per event, not once per (event, platform). Anything
else (an ad-hoc lambda) is normalised each time and only its SHA-256 is memoised.

The memo is a bounded LRU (a few hundred events' identifiers), so it holds no more than the
in-flight events' values; it holds digests and normalised values only in the process's memory.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable

Rule = Callable[[str], str | None]

_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
_HASH_CACHE_SIZE = 16384  # ~3 MB; a few hundred events' identifiers across all platforms
_PURE: set[Callable[..., str | None]] = set()


def sha256_hex(value: str) -> str:
    """SHA-256 of the UTF-8 bytes as lowercase hex: the one hash format every platform accepts."""
    # surrogatepass: a lone surrogate (never valid UTF-8 input) must not raise on the hot path.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def is_sha256(value: str) -> bool:
    """Whether ``value`` is exactly 64 hex characters (any case), i.e. already a SHA-256 digest.

    Producers may send pre-hashed identifiers; hashing them again would make them unmatchable.
    """
    return _SHA256_RE.fullmatch(value) is not None


def prehashed(value: str) -> str | None:
    """The trimmed, lowercased digest if ``value`` is already a SHA-256, else ``None``.

    Platforms compare lowercase hex, so a pre-hashed value is passed through in that form.
    """
    trimmed = value.strip()
    if _SHA256_RE.fullmatch(trimmed) is None:
        return None
    return trimmed.lower()


def register_pure(*rules: Callable[..., str | None]) -> None:
    """Declare normalisers whose result depends on their one argument only (memoisable)."""
    _PURE.update(rules)


class _Bound:
    """A normaliser with its extra arguments fixed: ``rule(value) == func(value, *args)``."""

    __slots__ = ("args", "func")

    def __init__(self, func: Callable[..., str | None], args: tuple[object, ...]) -> None:
        self.func = func
        self.args = args

    def __call__(self, value: str) -> str | None:
        return self.func(value, *self.args)

    def __repr__(self) -> str:
        return f"bound({getattr(self.func, '__name__', self.func)!r}, {self.args!r})"


@functools.cache
def bound(func: Callable[..., str | None], *args: object) -> Rule:
    """The rule ``func(value, *args)`` as one shared object per (func, args), memoised like a
    pure normaliser when ``func`` is one. Arguments must come from a small set (settings, a
    region, a flag), never from event data: every distinct combination is kept."""
    rule = _Bound(func, args)
    if func in _PURE:
        _PURE.add(rule)
    return rule


def hashed(value: str | None, normalizer: Rule) -> str | None:
    """The value to send for a hashed identifier: a pre-hashed value passes through
    (lowercased), anything else is normalised and SHA-256'd; ``None`` if missing or invalid.

    Memoised by (value, rule) for the pure and bound rules (see the module docstring)."""
    if not value:
        return None
    if normalizer in _PURE:
        return _hashed_pure(value, normalizer)
    return _hashed_once(value, normalizer)


@functools.lru_cache(maxsize=_HASH_CACHE_SIZE)
def _sha256_memo(normalised: str) -> str:
    return sha256_hex(normalised)


def _hashed_once(value: str, normalizer: Rule) -> str | None:
    already = prehashed(value)
    if already is not None:
        return already
    normalised = normalizer(value)
    if not normalised:
        return None
    return _sha256_memo(normalised)


_hashed_pure = functools.lru_cache(maxsize=_HASH_CACHE_SIZE)(_hashed_once)
"""`_hashed_once` memoised by (value, rule): only for rules that are pure functions of the value."""
