"""Fault injection: every knob observed on the wire, per platform shape, and counted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.faults import is_rejected
from sandbox.testing import SandboxHandle, running_sandbox
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import (
    ADS_PATH,
    DM_PATH,
    PIXEL_PATH,
    TIKTOK_PATH,
    ads_body,
    ads_conversion,
    dm_body,
    google_headers,
    meta_body,
    meta_event,
    meta_headers,
    tiktok_body,
    tiktok_event,
    tiktok_headers,
)

REQUESTS = {
    "meta": (PIXEL_PATH, meta_body, meta_headers),
    "tiktok": (TIKTOK_PATH, tiktok_body, tiktok_headers),
    "google": (ADS_PATH, ads_body, google_headers),
}


async def send(client: Client, slug: str) -> tuple[int, dict[str, str], Any]:
    path, body, headers = REQUESTS[slug]
    return await client.post(slug, path, body(), headers())


@pytest.mark.parametrize("slug", ["meta", "tiktok", "google"])
async def test_5xx(client: Client, sbx: SandboxHandle, slug: str) -> None:
    sbx.set_faults(slug, error_5xx_rate=1.0, error_5xx_statuses=[503])
    status, _, _data = await send(client, slug)
    assert status == 503
    assert sbx.state.stats()[slug]["fault_counts"] == {"error_5xx": 1}
    assert sbx.state.stats()[slug]["accepted_events"] == 0


async def test_google_502_is_html(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("google", error_5xx_rate=1.0, error_5xx_statuses=[502])
    status, headers, _data = await send(client, "google")
    assert status == 502 and headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("slug", ["tiktok", "google"])
async def test_throttle_429_with_retry_after(client: Client, sbx: SandboxHandle, slug: str) -> None:
    sbx.set_faults(slug, throttle_rate=1.0, retry_after_s=7)
    status, headers, data = await send(client, slug)
    assert status == 429 and headers["Retry-After"] == "7"
    if slug == "tiktok":
        assert data["code"] == 40100
    else:
        assert data["error"]["status"] == "RESOURCE_EXHAUSTED"


async def test_meta_throttle_is_400_with_rate_limit_code(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("meta", throttle_rate=1.0, retry_after_s=5)
    status, headers, data = await send(client, "meta")
    assert status == 400 and data["error"]["code"] == 17 and data["error"]["is_transient"] is True
    assert "x-app-usage" in {k.lower() for k in headers}
    sbx.set_faults("meta", retry_after_s=300)
    status, _, data = await send(client, "meta")
    assert data["error"]["code"] == 80004


async def test_tiktok_body_errors_are_http_200(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("tiktok", body_error_rate=1.0, body_error_codes=[40100])
    status, _, data = await send(client, "tiktok")
    assert status == 200 and data["code"] == 40100
    sbx.set_faults("tiktok", body_error_codes=[50000])
    status, _, data = await send(client, "tiktok")
    assert status == 200 and data["code"] == 50000


@pytest.mark.parametrize(("code", "status"), [(341, 400), (368, 400), (10, 403), (200, 403)])
async def test_meta_body_errors_are_graph_errors(
    client: Client, sbx: SandboxHandle, code: int, status: int
) -> None:
    """Meta's documented Graph codes come back as Graph error bodies; nothing is recorded."""
    sbx.set_faults("meta", body_error_rate=1.0, body_error_codes=[code])
    got, _, data = await send(client, "meta")
    assert got == status and data["error"]["code"] == code and data["error"]["fbtrace_id"]
    assert sbx.state.stats()["meta"]["accepted_events"] == 0


async def test_meta_body_error_with_a_foreign_code_is_a_transient_500(
    client: Client, sbx: SandboxHandle
) -> None:
    sbx.set_faults("meta", body_error_rate=1.0, body_error_codes=[40100])
    status, _, data = await send(client, "meta")
    assert status == 500 and data["error"]["is_transient"] is True


async def test_timeout_holds_then_504(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("meta", timeout_rate=1.0, timeout_hold_s=0.3)
    started = time.monotonic()
    status, _, _ = await send(client, "meta")
    assert status == 504 and time.monotonic() - started >= 0.3


async def test_latency(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("tiktok", latency_ms=150, latency_jitter_ms=50)
    started = time.monotonic()
    _status, _, data = await send(client, "tiktok")
    elapsed = time.monotonic() - started
    assert data["code"] == 0 and 0.15 <= elapsed < 2.0


async def test_outage_until_and_clear(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("google", outage={"status": 503, "until": time.time() + 60})
    status, headers, _ = await send(client, "google")
    assert status == 503 and int(headers["Retry-After"]) > 0
    status, _, _ = await client.post("google", DM_PATH, dm_body(), google_headers())
    assert status == 503
    sbx.set_faults("google", outage={"status": 503, "until": time.time() - 1})
    status, _, _ = await send(client, "google")
    assert status == 200
    sbx.set_faults("google", outage={"status": 500, "until": None})
    assert (await send(client, "google"))[0] == 500
    sbx.set_faults("google", outage=None)
    assert (await send(client, "google"))[0] == 200


async def test_meta_reject_event_is_deterministic_and_names_event(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("meta", reject_event_rate=0.5)
    ids = [f"evt-{i}" for i in range(40)]
    doomed = [i for i in ids if is_rejected(i, 0.5, 7, "meta")]
    fine = [i for i in ids if i not in doomed]
    assert doomed and fine
    for _ in range(2):  # a retry is rejected again
        status, _, data = await client.post(
            "meta", PIXEL_PATH, meta_body(meta_event(doomed[0])), meta_headers()
        )
        assert status == 400 and data["error"]["code"] == 100 and doomed[0] in data["error"]["message"]
    status, _, data = await client.post("meta", PIXEL_PATH, meta_body(*map(meta_event, fine)), meta_headers())
    assert status == 200
    assert sbx.state.stats()["meta"]["faults_injected"] == 2


async def test_tiktok_reject_event(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("tiktok", reject_event_rate=1.0)
    status, _, data = await client.post(
        "tiktok", TIKTOK_PATH, tiktok_body(tiktok_event("X")), tiktok_headers()
    )
    assert status == 200 and data["code"] == 40002 and "X" in data["message"]


async def test_google_reject_event_is_row_failure(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("google", reject_event_rate=0.5)
    ids = [f"order-{i}" for i in range(20)]
    expected = {i for i, oid in enumerate(ids) if is_rejected(oid, 0.5, 7, "google")}
    for _ in range(2):
        body = ads_body(*[ads_conversion(oid) for oid in ids])
        status, _, data = await client.post("google", ADS_PATH, body, google_headers())
        assert status == 200
        failed = {
            e["location"]["fieldPathElements"][0]["index"]
            for e in data["partialFailureError"]["details"][0]["errors"]
        }
        assert failed == expected


async def test_google_duplicate_answers(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("google", duplicate_answers=True)
    body = ads_body(ads_conversion("ORD-9"), ads_conversion(None))
    status, _, data = await client.post("google", ADS_PATH, body, google_headers())
    assert status == 200 and "partialFailureError" not in data
    status, _, data = await client.post("google", ADS_PATH, body, google_headers())
    codes = {
        e["location"]["fieldPathElements"][0]["index"]: e["errorCode"]["conversionUploadError"]
        for e in data["partialFailureError"]["details"][0]["errors"]
    }
    assert codes == {0: "ORDER_ID_ALREADY_IN_USE", 1: "CLICK_CONVERSION_ALREADY_EXISTS"}
    stats = sbx.state.stats()["google"]
    assert stats["accepted_events"] == 2 and stats["duplicate_events"] == 2 and stats["unique_events"] == 2
    assert sbx.state.count("google", "ORD-9") == 2


async def test_seeded_faults_are_repeatable() -> None:
    import aiohttp

    from tests.sandbox.conftest import Client as C

    async def run() -> list[int]:
        async with (
            running_sandbox({"tiktok": {"error_5xx_rate": 0.5}}, seed=3) as h,
            aiohttp.ClientSession() as s,
        ):
            c = C(s, h)
            return [(await send(c, "tiktok"))[0] for _ in range(12)]

    first, second = await run(), await run()
    assert first == second and 200 in first and any(code >= 500 for code in first)


async def test_start_faults_and_wildcard() -> None:
    async with running_sandbox({"*": {"error_5xx_rate": 1.0}}) as handle:
        assert all(f["error_5xx_rate"] == 1.0 for f in handle.runtime.faults_view().values())
