"""The event tester's test-mode plan: a test marker applied, a live request refused without --live."""

from __future__ import annotations

import pytest

from consumer.event_tester import SendRefused, plan


def test_code_platforms_need_a_code_or_live() -> None:
    with pytest.raises(SendRefused, match="--test-event-code"):
        plan("meta", {"pixel_id": "1"}, None, live=False)
    assert plan("meta", {"pixel_id": "1"}, "TEST1", live=False).settings["test_event_code"] == "TEST1"
    assert plan("meta", {"test_event_code": "T"}, None, live=False).test is True
    assert plan("reddit", {}, "t2_x", live=False).settings["test_id"] == "t2_x"
    assert plan("tiktok", {}, None, live=True).test is False


def test_mode_platforms_use_their_test_mode_unless_live() -> None:
    chosen = plan("google", {"customer_id": "1"}, None, live=False)
    assert chosen.test and chosen.settings["test_mode"] is True
    assert plan("snap", {}, None, live=True).test is False
    assert plan("google", {"validate_only": True}, None, live=True).test is True
    with pytest.raises(SendRefused, match="no test event code"):
        plan("pinterest", {}, "X", live=False)


def test_a_platform_without_test_mode_is_live_only() -> None:
    with pytest.raises(SendRefused, match="--live"):
        plan("microsoft", {}, None, live=False)
    assert plan("microsoft", {}, None, live=True).test is False
