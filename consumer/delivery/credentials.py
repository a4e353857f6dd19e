"""The engine's one place that knows secrets: access tokens and per-platform extras.

Static tokens are read from environment variables the configuration names (never inlined in
the config). OAuth tokens are refreshed *before* they expire, in a worker thread for the
blocking google-auth library, with a single refresh in flight per (platform, site) however
many batches ask at once. A 401 calls ``invalidate`` so the next ``get`` fetches a new token.
Secrets are held as ``SecretStr``; error messages name platforms and variables, never values.
"""

from __future__ import annotations

import asyncio
import calendar
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp
from google.auth import exceptions as google_exceptions
from google.auth import transport as google_transport
from google.auth.credentials import Credentials as GoogleCredentials
from google.oauth2 import credentials as google_user
from google.oauth2 import service_account
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.base import Credentials

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GOOGLE_DEFAULT_SCOPES = (
    "https://www.googleapis.com/auth/datamanager",
    "https://www.googleapis.com/auth/adwords",
)


class CredentialsError(RuntimeError):
    """Credentials could not be produced (missing variable, refresh failed); names the platform."""


class OAuthSettings(BaseModel):
    """How to obtain OAuth access tokens; every secret is referenced by environment variable."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["google_service_account", "google_refresh_token", "oauth2_refresh_token"]
    token_uri: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    refresh_token_env: str | None = None
    service_account_file_env: str | None = None
    scopes: list[str] = Field(default_factory=list)
    refresh_margin_s: float = 300.0


class SiteCredentialsSettings(BaseModel):
    """Per-site (route) overrides: its own token variable, OAuth client or extras."""

    model_config = ConfigDict(extra="forbid")

    token_env: str | None = None
    oauth: OAuthSettings | None = None
    extra_env: dict[str, str] = Field(default_factory=dict)
    optional_extra_env: dict[str, str] = Field(default_factory=dict)


class CredentialsSettings(SiteCredentialsSettings):
    """One platform's credentials (``credentials.<slug>`` in the config).

    ``token_env`` names the variable holding a static token (e.g. ``CAPI_META_TOKEN``);
    ``oauth`` replaces it for refreshed tokens. ``extra_env`` maps extra names the connector
    reads (Google: ``developer-token``) to variables that must be set; ``optional_extra_env``
    the same for optional ones (Google: ``login-customer-id``). ``sites`` keys are matched
    against the route: equal to it, or equal to the route's first ``|``-separated segment.
    """

    sites: dict[str, SiteCredentialsSettings] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and when it expires (epoch seconds; None = unknown / never)."""

    token: SecretStr
    expires_at: float | None = None


class OAuthRefresher(Protocol):
    """Obtains a fresh access token; implementations may block only in a worker thread."""

    async def refresh(self) -> AccessToken:
        """Fetch a new access token from the authorization server."""
        ...


class _UrllibResponse(google_transport.Response):
    """google-auth's transport response over the standard library."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, dict(headers), data

    @property
    def status(self) -> int:
        """HTTP status code."""
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers."""
        return self._headers

    @property
    def data(self) -> bytes:
        """Response body."""
        return self._data


class UrllibRequest(google_transport.Request):
    """A google-auth transport on ``urllib`` so token refresh needs no extra HTTP library."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> google_transport.Response:
        """Perform one blocking HTTP request (called from a worker thread)."""
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=timeout or 30) as answer:
                return _UrllibResponse(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as exc:
            return _UrllibResponse(exc.code, dict(exc.headers.items()), exc.read())
        except (urllib.error.URLError, OSError) as exc:
            raise google_exceptions.TransportError(str(exc)) from exc


class GoogleAuthRefresher:
    """Refreshes any google-auth credentials (service account, authorized user) in a thread."""

    def __init__(self, credentials: GoogleCredentials) -> None:
        self._credentials = credentials
        self._request = UrllibRequest()

    async def refresh(self) -> AccessToken:
        """Run google-auth's blocking refresh off the event loop."""
        await asyncio.to_thread(self._credentials.refresh, self._request)
        token = self._credentials.token
        if not token:
            raise CredentialsError("google-auth returned no access token")
        expiry = self._credentials.expiry
        expires_at = calendar.timegm(expiry.utctimetuple()) if expiry is not None else None
        return AccessToken(SecretStr(token), float(expires_at) if expires_at is not None else None)


class OAuth2RefreshTokenRefresher:
    """Generic OAuth 2.0 refresh-token grant (RFC 6749 §6) with aiohttp, e.g. LinkedIn.

    A rotated refresh token in the answer replaces the old one in memory.
    """

    def __init__(
        self,
        token_uri: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        scopes: list[str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._token_uri = token_uri
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._scopes = scopes or []
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def refresh(self) -> AccessToken:
        """POST ``grant_type=refresh_token`` and read ``access_token`` / ``expires_in``."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token.get_secret_value(),
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.post(self._token_uri, data=form, headers={"Accept": "application/json"}) as answer,
        ):
            try:
                data = await answer.json(content_type=None)
            except ValueError:
                data = None
            status = answer.status
        if status != 200 or not isinstance(data, dict) or not data.get("access_token"):
            detail = ""
            if isinstance(data, dict):
                detail = f" {data.get('error', '')} {data.get('error_description', '')}".rstrip()
            raise CredentialsError(f"token endpoint answered HTTP {status}{detail}")
        if data.get("refresh_token"):
            self._refresh_token = SecretStr(str(data["refresh_token"]))
        expires_in = data.get("expires_in")
        expires_at = time.time() + float(expires_in) if isinstance(expires_in, int | float) else None
        return AccessToken(SecretStr(str(data["access_token"])), expires_at)


@dataclass(slots=True)
class _Entry:
    """The cached credentials of one (platform, site)."""

    settings: SiteCredentialsSettings
    margin_s: float
    refresher: OAuthRefresher | None
    extra: dict[str, str]
    token: SecretStr | None = None
    expires_at: float | None = None
    stale: bool = False
    failed_at: float | None = None
    failure: CredentialsError | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class CredentialsProvider:
    """Hands the engine ``Credentials`` for (platform, route), refreshing OAuth tokens early.

    ``environ`` defaults to ``os.environ``; ``clock`` (epoch seconds) and ``refreshers`` (a
    factory per OAuth settings) are injectable for tests.
    """

    def __init__(
        self,
        settings: Mapping[str, CredentialsSettings],
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        failure_cooldown_s: float = 5.0,
    ) -> None:
        self._settings = dict(settings)
        self._environ = environ if environ is not None else os.environ
        self._clock = clock
        self._cooldown = failure_cooldown_s
        self._entries: dict[tuple[str, str], _Entry] = {}

    def __repr__(self) -> str:
        return f"CredentialsProvider(platforms={sorted(self._settings)})"

    def invalidate_nowait(self, slug: str, route: str = "") -> None:
        """The dispatcher's synchronous hook after a 401: schedule the invalidation so the
        next `get` for this platform refreshes first (see CredentialsSource)."""
        import asyncio

        asyncio.get_running_loop().create_task(self.invalidate(slug, route))

    async def get(self, slug: str, route: str = "") -> Credentials:
        """Credentials for one request to ``slug`` on ``route``; refreshes if due (single-flight)."""
        entry = self._entry(slug, route)
        if entry.refresher is None:
            if entry.token is None or entry.stale:
                entry.token = SecretStr(self._require(slug, entry.settings.token_env, "token_env"))
                entry.stale = False
            return Credentials(access_token=entry.token.get_secret_value(), extra=entry.extra)
        if self._due(entry):
            async with entry.lock:
                if self._due(entry):
                    await self._refresh(slug, entry)
        assert entry.token is not None
        return Credentials(access_token=entry.token.get_secret_value(), extra=entry.extra)

    async def invalidate(self, slug: str, route: str = "", token: str | None = None) -> None:
        """The platform refused the token (401): the next ``get`` fetches a new one.

        With ``token`` (the one that was refused), a token already replaced is left alone, so
        a wave of 401s from batches in flight causes one refresh, not one each.
        """
        entry = self._entry(slug, route)
        if token is not None and entry.token is not None and entry.token.get_secret_value() != token:
            return
        entry.stale = True
        entry.failure = None

    def _due(self, entry: _Entry) -> bool:
        """Whether the token is missing, invalidated, or within the refresh margin of expiry."""
        if entry.token is None or entry.stale:
            return True
        return entry.expires_at is not None and entry.expires_at - self._clock() < entry.margin_s

    async def _refresh(self, slug: str, entry: _Entry) -> None:
        """One refresh; a failure is remembered briefly so concurrent callers share it."""
        now = self._clock()
        failed_at = entry.failed_at
        if entry.failure is not None and failed_at is not None and now - failed_at < self._cooldown:
            raise entry.failure
        assert entry.refresher is not None
        try:
            fresh = await entry.refresher.refresh()
        except Exception as exc:  # google-auth, aiohttp and our own errors alike
            error = CredentialsError(f"{slug}: OAuth token refresh failed: {type(exc).__name__}: {exc}")
            entry.failure, entry.failed_at = error, self._clock()
            raise error from None
        entry.token, entry.expires_at = fresh.token, fresh.expires_at
        entry.stale, entry.failure = False, None

    def _entry(self, slug: str, route: str) -> _Entry:
        """The cached entry for (slug, site of route), created on first use."""
        platform = self._settings.get(slug)
        if platform is None:
            raise CredentialsError(f"{slug}: no credentials configured")
        site_key = ""
        if route in platform.sites:
            site_key = route
        elif route.split("|", 1)[0] in platform.sites:
            site_key = route.split("|", 1)[0]
        entry = self._entries.get((slug, site_key))
        if entry is None:
            entry = self._build(slug, platform, platform.sites.get(site_key) if site_key else None)
            self._entries[(slug, site_key)] = entry
        return entry

    def _build(
        self, slug: str, platform: CredentialsSettings, site: SiteCredentialsSettings | None
    ) -> _Entry:
        """Merge site overrides over the platform and resolve extras and the refresher."""
        merged = SiteCredentialsSettings(
            token_env=(site.token_env if site else None) or platform.token_env,
            oauth=(site.oauth if site else None) or platform.oauth,
            extra_env={**platform.extra_env, **(site.extra_env if site else {})},
            optional_extra_env={**platform.optional_extra_env, **(site.optional_extra_env if site else {})},
        )
        if merged.oauth is None and merged.token_env is None:
            raise CredentialsError(f"{slug}: neither token_env nor oauth is configured")
        extra = {
            name: self._require(slug, env, f"extra_env.{name}") for name, env in merged.extra_env.items()
        }
        for name, env in merged.optional_extra_env.items():
            if self._environ.get(env):
                extra[name] = self._environ[env]
        refresher = self._refresher(slug, merged.oauth) if merged.oauth is not None else None
        margin = merged.oauth.refresh_margin_s if merged.oauth is not None else 0.0
        return _Entry(settings=merged, margin_s=margin, refresher=refresher, extra=extra)

    def _refresher(self, slug: str, oauth: OAuthSettings) -> OAuthRefresher:
        """Build the refresher the OAuth settings describe, reading its secrets from the env."""
        if oauth.kind == "google_service_account":
            path = self._require(slug, oauth.service_account_file_env, "oauth.service_account_file_env")
            scopes = oauth.scopes or list(GOOGLE_DEFAULT_SCOPES)
            try:
                sa = service_account.Credentials.from_service_account_file(path, scopes=scopes)
            except (OSError, ValueError) as exc:
                raise CredentialsError(f"{slug}: cannot load the service-account file: {exc}") from None
            if oauth.token_uri:
                sa = sa.with_token_uri(oauth.token_uri)
            return GoogleAuthRefresher(sa)
        client_id = self._require(slug, oauth.client_id_env, "oauth.client_id_env")
        client_secret = SecretStr(self._require(slug, oauth.client_secret_env, "oauth.client_secret_env"))
        refresh_token = SecretStr(self._require(slug, oauth.refresh_token_env, "oauth.refresh_token_env"))
        if oauth.kind == "google_refresh_token":
            user = google_user.Credentials(
                token=None,
                refresh_token=refresh_token.get_secret_value(),
                token_uri=oauth.token_uri or GOOGLE_TOKEN_URI,
                client_id=client_id,
                client_secret=client_secret.get_secret_value(),
                scopes=oauth.scopes or None,
            )
            return GoogleAuthRefresher(user)
        if not oauth.token_uri:
            raise CredentialsError(f"{slug}: oauth.token_uri is required for oauth2_refresh_token")
        return OAuth2RefreshTokenRefresher(
            oauth.token_uri, client_id, client_secret, refresh_token, oauth.scopes
        )

    def _require(self, slug: str, env: str | None, key: str) -> str:
        """The value of a configured environment variable, or an error naming it (not its value)."""
        if not env:
            raise CredentialsError(f"{slug}: {key} is not configured")
        value = self._environ.get(env)
        if not value:
            raise CredentialsError(f"{slug}: environment variable {env} ({key}) is not set")
        return value
