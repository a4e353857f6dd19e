"""Pydantic validation errors turned into one line per problem, each naming the key path.

Why: a ``ValidationError`` printed as is spans many lines of pydantic internals; an operator
reading a crash-looping pod's log needs ``platforms.meta.settings.pixle_id: unknown setting``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

_MESSAGES = {
    "extra_forbidden": "unknown setting",
    "missing": "required setting is missing",
}


def key_path(parts: Sequence[str | int]) -> str:
    """``("platforms", "meta", "settings")`` -> ``platforms.meta.settings``."""
    return ".".join(str(p) for p in parts)


def validation_lines(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[str]:
    """One ``key.path: message`` line per error of ``exc``, under ``prefix``."""
    lines: list[str] = []
    for err in exc.errors():
        loc = [*prefix, *(p for p in err["loc"] if p != "__root__")]
        message = _MESSAGES.get(err["type"], err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        line = f"{key_path(loc) or '(top level)'}: {message}"
        if line not in lines:
            lines.append(line)
    return lines
