"""What the dispatcher needs from credentials: a token per (platform, route), and a way to say
"this one was refused" so the next request refreshes it first."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from connectors.base import Credentials


class CredentialsSource(Protocol):
    """Supplies credentials to dispatchers."""

    async def get(self, slug: str, route: str = "") -> Credentials:
        """Current credentials for a platform (and route, e.g. a per-site pixel)."""
        ...

    def invalidate_nowait(self, slug: str, route: str = "") -> None:
        """Mark the current token as refused; the next `get` refreshes it."""
        ...


class StaticCredentials:
    """Fixed tokens (from the environment or given directly) — Meta/TikTok style long-lived
    tokens, the sandbox, tests. ``tokens`` maps slug -> token; ``env`` maps slug -> variable."""

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        extra: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._tokens = dict(tokens or {})
        self._env = dict(env or {})
        self._extra = {k: dict(v) for k, v in (extra or {}).items()}

    async def get(self, slug: str, route: str = "") -> Credentials:
        """The configured token (environment read at each call so rotations apply)."""
        token = self._tokens.get(slug, "")
        var = self._env.get(slug)
        if var:
            token = os.environ.get(var, token)
        return Credentials(access_token=token, extra=self._extra.get(slug, {}))

    def invalidate_nowait(self, slug: str, route: str = "") -> None:
        """Static tokens cannot be refreshed; the environment is re-read on the next call."""
