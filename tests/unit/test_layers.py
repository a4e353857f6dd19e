"""The import contract holds for the code, and the check catches a deliberate breach."""

from __future__ import annotations

from pathlib import Path

from tests.layers_contract import check_module, check_tree

ROOT = Path(__file__).resolve().parents[2]


def test_the_code_keeps_the_import_contract() -> None:
    assert [str(v) for v in check_tree(ROOT)] == []


def test_an_upward_import_fails_the_check(tmp_path: Path) -> None:
    """The same check, on a tree with one deliberately upward import."""
    (tmp_path / "consumer" / "kafka").mkdir(parents=True)
    (tmp_path / "connectors").mkdir()
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "consumer" / "kafka" / "bad.py").write_text("from consumer.app import build_relay\n")
    found = [str(v) for v in check_tree(tmp_path)]
    assert found == [
        "consumer.kafka.bad:1: base module imports consumer.app.build_relay from above it",
        "consumer.kafka.bad:1: imports consumer.app.build_relay: nothing imports upward into app/cli",
    ]


def test_each_rule_has_teeth() -> None:
    cases = {
        ("connectors.meta.mapping", "from consumer.config import Settings\n"): "know nothing of consumer",
        ("sandbox.app", "import consumer.kafka.dlq\n"): "know nothing of consumer",
        ("consumer.dlq_ops.replay", "from consumer.app import registry_client\n"): "upward into app/cli",
        ("consumer.receipts.cli", "from consumer import cli\n"): "upward into app/cli",
        ("consumer.ledger.guard", "from consumer.enrich.store import StoreUnavailable\n"): "click-ID store",
        ("consumer.observability.metrics", "from consumer.engine import Engine\n"): "from above it",
        (
            "consumer.intake",
            "try:\n    pass\nexcept Exception as exc:\n"
            "    if type(exc).__name__ != 'StoreUnavailable':\n        raise\n",
        ): "by class name",
    }
    for (module, source), expected in cases.items():
        found = [str(v) for v in check_module(module, source)]
        assert found and expected in found[0], (module, found)
    assert check_module("consumer.cli", "from consumer.app import build_relay\n") == []
    assert check_module("consumer.kafka.dlq", "from consumer.kafka.retry_topic import X\n") == []
