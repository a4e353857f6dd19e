"""Structured logging for the relay: JSON lines in production, a readable console in a terminal,
and redaction of personal data and secrets before anything is written.

Everything funnels through the standard library's root handler, so structlog loggers and
third-party libraries (aiohttp, google-auth, ...) get the same shape, the same context
(``structlog.contextvars``: topic, partition, offset, event_id, platform) and the same
redaction. Redaction runs last, just before rendering, so nothing added later in the chain
can bypass it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from consumer.observability.kafka_health import lag_from_statistics
from consumer.observability.redact import redact_event

__all__ = ["LogFormat", "configure_logging", "lag_from_statistics", "redact_event"]

LogFormat = Literal["auto", "json", "console"]

_HANDLER_NAME = "capi-relay"


def _redact(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    return redact_event(event_dict)


def _json_dumps(data: Any, default: Any = None) -> str:
    return orjson.dumps(data, default=default or str, option=orjson.OPT_NON_STR_KEYS).decode()


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(
    format: LogFormat = "auto",
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
) -> None:
    """Install the relay's logging: ``json`` lines, ``console`` text, or ``auto`` (console when
    the stream is a terminal). ``stream`` defaults to stderr; tests pass a StringIO.

    Safe to call again (the previous handler is replaced), so tests and the CLI can reconfigure.
    """
    out = stream if stream is not None else sys.stderr
    if format == "auto":
        isatty = getattr(out, "isatty", None)
        format = "console" if callable(isatty) and isatty() else "json"
    renderer: Processor
    if format == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: module-level loggers must follow a reconfiguration (tests, CLI).
        cache_logger_on_first_use=False,
    )
