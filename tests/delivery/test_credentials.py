"""CredentialsProvider against a real local token endpoint (aiohttp on 127.0.0.1).

The endpoint speaks both Google's token protocol (google-auth refresh-token and JWT-bearer
grants) and a generic OAuth 2.0 refresh-token grant, counts requests, and can be slowed down
or made to fail.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from consumer.delivery.credentials import (
    CredentialsError,
    CredentialsProvider,
    CredentialsSettings,
    OAuthSettings,
)

REFRESH_TOKEN = "1//refresh-SECRET-value"
CLIENT_SECRET = "client-SECRET-value"


@dataclass
class TokenEndpoint:
    """State of the fake authorization server."""

    url: str = ""
    calls: int = 0
    delay_s: float = 0.0
    fail: bool = False
    expires_in: int = 3600
    rotate_to: str | None = None
    grants: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def endpoint() -> AsyncIterator[TokenEndpoint]:
    """A token endpoint on a free 127.0.0.1 port."""
    state = TokenEndpoint()

    async def token(request: web.Request) -> web.Response:
        form = dict(await request.post())
        state.calls += 1
        state.grants.append({k: str(v) for k, v in form.items()})
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        if state.fail:
            error = {"error": "invalid_grant", "error_description": "Bad Request"}
            return web.json_response(error, status=400)
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        body: dict[str, object] = {
            "access_token": f"tok-{state.calls}",
            "expires_in": state.expires_in,
            "token_type": "Bearer",
        }
        if state.rotate_to:
            body["refresh_token"] = state.rotate_to
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/token", token)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("/token"))
    yield state
    await server.close()


ENV = {
    "G_CLIENT_ID": "client-id",
    "G_CLIENT_SECRET": CLIENT_SECRET,
    "G_REFRESH": REFRESH_TOKEN,
    "G_DEV_TOKEN": "dev-SECRET-token",
    "G_LOGIN": "9876543210",
    "META_TOKEN": "meta-static-token",
    "META_SITE_B": "meta-site-b-token",
}


def google_settings(url: str, kind: str = "google_refresh_token") -> CredentialsSettings:
    """Google refresh-token credentials pointing at the local endpoint."""
    return CredentialsSettings(
        oauth=OAuthSettings(
            kind=kind,  # type: ignore[arg-type]
            token_uri=url,
            client_id_env="G_CLIENT_ID",
            client_secret_env="G_CLIENT_SECRET",
            refresh_token_env="G_REFRESH",
        ),
        extra_env={"developer-token": "G_DEV_TOKEN"},
        optional_extra_env={"login-customer-id": "G_LOGIN", "linked-customer-id": "G_UNSET"},
    )


class Clock:
    """Real time plus a controllable offset (google-auth computes expiry from real time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_google_token_is_reused_then_refreshed_before_expiry(endpoint: TokenEndpoint) -> None:
    clock = Clock()
    provider = CredentialsProvider({"google": google_settings(endpoint.url)}, environ=ENV, clock=clock)
    first = await provider.get("google", "|dm|1234567890||111")
    assert first.access_token == "tok-1"
    assert first.extra == {"developer-token": "dev-SECRET-token", "login-customer-id": "9876543210"}
    assert (await provider.get("google")).access_token == "tok-1"
    assert endpoint.calls == 1
    clock.offset = 3600 - 240  # 4 minutes left: inside the 5-minute margin
    assert (await provider.get("google")).access_token == "tok-2"
    assert endpoint.calls == 2
    assert endpoint.grants[0]["grant_type"] == "refresh_token"
    assert endpoint.grants[0]["refresh_token"] == REFRESH_TOKEN


async def test_single_flight_refresh_under_concurrency(endpoint: TokenEndpoint) -> None:
    endpoint.delay_s = 0.2
    provider = CredentialsProvider({"google": google_settings(endpoint.url)}, environ=ENV)
    results = await asyncio.gather(*(provider.get("google", "r") for _ in range(50)))
    assert {c.access_token for c in results} == {"tok-1"}
    assert endpoint.calls == 1


async def test_refresh_does_not_block_the_event_loop(endpoint: TokenEndpoint) -> None:
    endpoint.delay_s = 0.3
    provider = CredentialsProvider({"google": google_settings(endpoint.url)}, environ=ENV)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.02)
            ticks += 1

    await asyncio.gather(provider.get("google"), ticker())
    assert ticks == 10  # the loop kept running while google-auth waited for the endpoint


async def test_invalidate_then_refresh(endpoint: TokenEndpoint) -> None:
    provider = CredentialsProvider({"google": google_settings(endpoint.url)}, environ=ENV)
    assert (await provider.get("google")).access_token == "tok-1"
    await provider.invalidate("google")
    assert (await provider.get("google")).access_token == "tok-2"
    # a late 401 for the token already replaced does not cause another refresh
    await provider.invalidate("google", token="tok-1")
    assert (await provider.get("google")).access_token == "tok-2"
    assert endpoint.calls == 2


async def test_failing_token_endpoint_names_the_platform(endpoint: TokenEndpoint) -> None:
    endpoint.fail = True
    provider = CredentialsProvider({"google": google_settings(endpoint.url)}, environ=ENV)
    with pytest.raises(CredentialsError) as caught:
        await provider.get("google")
    message = str(caught.value)
    assert message.startswith("google:")
    assert "invalid_grant" in message
    assert REFRESH_TOKEN not in message and CLIENT_SECRET not in message
    # concurrent callers within the cool-down share the failure instead of hammering the endpoint
    with pytest.raises(CredentialsError):
        await provider.get("google")
    assert endpoint.calls == 1


async def test_unreachable_token_endpoint_raises_clear_error() -> None:
    provider = CredentialsProvider(
        {"google": google_settings("http://127.0.0.1:9/token")}, environ=ENV
    )
    with pytest.raises(CredentialsError, match=r"^google: OAuth token refresh failed"):
        await provider.get("google")


async def test_generic_oauth2_refresh_token_with_rotation(endpoint: TokenEndpoint) -> None:
    endpoint.rotate_to = "rotated-refresh"
    settings = CredentialsSettings(
        oauth=OAuthSettings(
            kind="oauth2_refresh_token",
            token_uri=endpoint.url,
            client_id_env="G_CLIENT_ID",
            client_secret_env="G_CLIENT_SECRET",
            refresh_token_env="G_REFRESH",
        )
    )
    provider = CredentialsProvider({"linkedin": settings}, environ=ENV)
    results = await asyncio.gather(*(provider.get("linkedin") for _ in range(20)))
    assert {c.access_token for c in results} == {"tok-1"}
    await provider.invalidate("linkedin")
    assert (await provider.get("linkedin")).access_token == "tok-2"
    assert endpoint.grants[0]["refresh_token"] == REFRESH_TOKEN
    assert endpoint.grants[1]["refresh_token"] == "rotated-refresh"
    assert endpoint.grants[1]["client_id"] == "client-id"


async def test_generic_oauth2_failure_names_platform(endpoint: TokenEndpoint) -> None:
    endpoint.fail = True
    settings = CredentialsSettings(
        oauth=OAuthSettings(
            kind="oauth2_refresh_token",
            token_uri=endpoint.url,
            client_id_env="G_CLIENT_ID",
            client_secret_env="G_CLIENT_SECRET",
            refresh_token_env="G_REFRESH",
        )
    )
    provider = CredentialsProvider({"linkedin": settings}, environ=ENV)
    with pytest.raises(CredentialsError, match=r"^linkedin: .*HTTP 400 invalid_grant"):
        await provider.get("linkedin")


async def test_service_account_jwt_grant(endpoint: TokenEndpoint, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps({
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "relay@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": endpoint.url,
    }))
    settings = CredentialsSettings(
        oauth=OAuthSettings(kind="google_service_account", service_account_file_env="SA_FILE")
    )
    provider = CredentialsProvider({"google": settings}, environ={"SA_FILE": str(key_file)})
    assert (await provider.get("google")).access_token == "tok-1"
    assert endpoint.grants[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


async def test_static_tokens_per_platform_and_site() -> None:
    settings = CredentialsSettings(
        token_env="META_TOKEN", sites={"site-b": {"token_env": "META_SITE_B"}}  # type: ignore[dict-item]
    )
    provider = CredentialsProvider({"meta": settings}, environ=ENV)
    assert (await provider.get("meta", "123456")).access_token == "meta-static-token"
    assert (await provider.get("meta", "site-b")).access_token == "meta-site-b-token"
    assert (await provider.get("meta", "site-b|123456")).access_token == "meta-site-b-token"
    await provider.invalidate("meta", "site-b")
    assert (await provider.get("meta", "site-b")).access_token == "meta-site-b-token"


async def test_missing_configuration_is_reported_by_name() -> None:
    provider = CredentialsProvider(
        {"tiktok": CredentialsSettings(token_env="TIKTOK_TOKEN")}, environ=ENV
    )
    with pytest.raises(CredentialsError, match=r"^tiktok: environment variable TIKTOK_TOKEN"):
        await provider.get("tiktok")
    with pytest.raises(CredentialsError, match=r"^snap: no credentials configured"):
        await provider.get("snap")
    google = CredentialsProvider({"google": google_settings("http://127.0.0.1:9/token")}, environ={})
    with pytest.raises(CredentialsError, match="G_DEV_TOKEN"):
        await google.get("google")


def test_secrets_never_in_repr() -> None:
    provider = CredentialsProvider({"google": google_settings("http://127.0.0.1:9/token")}, environ=ENV)
    assert CLIENT_SECRET not in repr(provider)
    for value in ENV.values():
        assert value not in repr(google_settings("x"))
