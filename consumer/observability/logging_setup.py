"""Compatibility name for the CLI: ``setup_logging(format, level)`` is `configure_logging`.

The CLI was written against this name before the logging module existed; keeping the alias
means neither has to change in lock-step.
"""

from __future__ import annotations

from consumer.observability.logging import configure_logging as setup_logging

__all__ = ["setup_logging"]
