"""The platform registry: one line per platform stand-in.

To add a platform, write `sandbox/platforms/<slug>.py` exposing `PLATFORM` (a
`sandbox.platform.Platform`) and append it here.
"""

from sandbox.platform import Platform
from sandbox.platforms import google, linkedin, meta, microsoft, pinterest, reddit, snap, tiktok

PLATFORMS: tuple[Platform, ...] = (
    meta.PLATFORM,
    google.PLATFORM,
    tiktok.PLATFORM,
    linkedin.PLATFORM,
    snap.PLATFORM,
    pinterest.PLATFORM,
    reddit.PLATFORM,
    microsoft.PLATFORM,
)

__all__ = ["PLATFORMS"]
