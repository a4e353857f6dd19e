"""Live sandbox state shared by every handler: config, current faults, RNGs, recorders.

Why a separate object: the admin API, the in-process test handle and the request pipeline
all need to change or read the same faults and records; one owner keeps that consistent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.config import ALL_PLATFORMS, ConfigError, FaultSettings, SandboxConfig
from sandbox.platform import Platform
from sandbox.recorder import SandboxState


class Runtime:
    """The mutable heart of one sandbox instance."""

    def __init__(
        self,
        platforms: tuple[Platform, ...],
        config: SandboxConfig | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.platforms = {p.slug: p for p in platforms}
        self.config = config or SandboxConfig()
        self.seed = seed
        self.clock = clock
        self.state = SandboxState(list(self.platforms))
        self.faults: dict[str, FaultSettings] = {}
        self.rngs: dict[str, random.Random] = {}
        self._closing: asyncio.Event | None = None
        self.reset_faults()

    def reset_faults(self) -> None:
        """Back to the start-up faults and fresh RNGs (seeded per platform for repeatability)."""
        self.faults = {slug: FaultSettings() for slug in self.platforms}
        self.rngs = {slug: random.Random(f"{self.seed}:{slug}") for slug in self.platforms}
        if self.config.faults:
            self.apply_faults(self.config.faults)

    def apply_faults(self, changes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Merge `{platform|"*": {setting: value}}` into the current faults; all-or-nothing."""
        updated = dict(self.faults)
        for slug, settings in changes.items():
            if not isinstance(settings, Mapping):
                raise ConfigError(f"faults for {slug!r} must be an object")
            targets = list(self.platforms) if slug == ALL_PLATFORMS else [slug]
            for target in targets:
                if target not in self.platforms:
                    raise ConfigError(f"unknown platform {target!r}; known: {sorted(self.platforms)}")
                updated[target] = updated[target].merged(settings)
        self.faults = updated
        return self.faults_view()

    def faults_view(self) -> dict[str, dict[str, Any]]:
        """Current faults as JSON-friendly dicts."""
        return {slug: settings.to_dict() for slug, settings in self.faults.items()}

    @property
    def closing(self) -> asyncio.Event:
        """Set at shutdown so requests held by the timeout fault end promptly."""
        if self._closing is None:
            self._closing = asyncio.Event()
        return self._closing

    def tokens_for(self, slug: str) -> tuple[str, ...]:
        """Tokens accepted for `slug`."""
        return self.config.tokens_for(slug)
