"""Preflight checks: one ``key.path: message`` line per problem, from settings alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.config import ConfigError, Settings, load_settings
from consumer.demo_settings import sandbox_platforms
from consumer.preflight import check_settings, check_storage


def _settings(**overrides: object) -> Settings:
    platforms = sandbox_platforms("http://127.0.0.1:1", ["meta", "tiktok"])
    for slug in platforms:
        platforms[slug]["credentials"] = {"token_env": f"T_{slug.upper()}"}
    data: dict[str, object] = {
        "routing": {"purchase": ["meta", "tiktok"]},
        "platforms": platforms,
        "store": {"backend": "none"},
    }
    data.update(overrides)
    return Settings(**data)  # type: ignore[arg-type]


ENV = {"T_META": "x", "T_TIKTOK": "y"}


def test_a_complete_configuration_has_no_problems() -> None:
    assert check_settings(_settings(), ENV) == []


def test_unset_and_empty_token_variables_are_named() -> None:
    problems = check_settings(_settings(), {"T_META": "  "})
    assert problems == [
        "platforms.meta.credentials.token_env: environment variable T_META is empty",
        "platforms.tiktok.credentials.token_env: environment variable T_TIKTOK is not set",
    ]


def test_unknown_settings_key_names_its_path() -> None:
    settings = _settings()
    settings.platforms["meta"].settings["pixle_id"] = "1"
    assert check_settings(settings, ENV) == ["platforms.meta.settings.pixle_id: unknown setting"]


def test_unknown_platform_in_routing_and_platforms() -> None:
    problems = check_settings(_settings(routing={"lead": ["meta", "metta"]}), ENV)
    assert len(problems) == 1 and problems[0].startswith("routing.lead: unknown platform 'metta'")
    settings = _settings()
    settings.platforms["snapchat"] = settings.platforms["meta"]
    assert any(p.startswith("platforms.snapchat: unknown platform") for p in check_settings(settings, ENV))


def test_credentials_block_without_a_token_or_oauth() -> None:
    settings = _settings()
    settings.platforms["meta"].credentials = {}
    assert check_settings(settings, ENV) == [
        "platforms.meta.credentials: neither token_env nor oauth is configured"
    ]


def test_a_disabled_platform_is_not_checked() -> None:
    settings = _settings()
    settings.platforms["tiktok"].enabled = False
    assert check_settings(settings, {"T_META": "x"}) == []


def test_load_settings_reports_each_bad_key_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("kafka:\n  bootstrap_server: x\ndelivery:\n  retry: {max_attempts: 0}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.problems[0] == "kafka.bootstrap_server: unknown setting"
    assert info.value.problems[1].startswith("delivery.retry.max_attempts: ")
    assert len(str(info.value).splitlines()) == 2


def test_storage_not_writable_names_the_key(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    settings = _settings(store={"backend": "sqlite", "sqlite_path": str(blocked / "sub" / "x.db")})
    problems = check_storage(settings)
    assert len(problems) == 1 and problems[0].startswith("store.sqlite_path: ")
    ok = _settings(store={"backend": "sqlite", "sqlite_path": str(tmp_path / "var" / "x.db")})
    assert check_storage(ok) == []


def test_admin_endpoint_beyond_loopback_needs_a_token() -> None:
    settings = _settings(admin={"http_host": "0.0.0.0"})
    assert check_settings(settings, ENV) == [
        "admin.http_host: 0.0.0.0 is not a loopback address; set admin.token_env"
    ]
    settings = _settings(admin={"http_host": "0.0.0.0", "token_env": "ADMIN_T"})
    assert check_settings(settings, ENV) == [
        "admin.token_env: environment variable ADMIN_T is not set or empty"
    ]
    assert check_settings(settings, {**ENV, "ADMIN_T": "x"}) == []
