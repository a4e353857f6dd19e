"""Google stand-ins under one slug: the Ads API upload endpoint and Data Manager ingest."""

from sandbox.platform import Platform
from sandbox.platforms.google.ads import GoogleAdsUpload
from sandbox.platforms.google.datamanager import DataManagerIngest

PLATFORM = Platform(
    slug="google",
    endpoints=(GoogleAdsUpload(), DataManagerIngest()),
    description="Google Ads API uploadClickConversions and Data Manager events:ingest",
)

__all__ = ["PLATFORM"]
