"""Fast checks of LocalKafka's pure parts (no JVM): broker config and ids.

Why: a wrong listener or replication setting only shows up as a slow start-up timeout,
so the rendered configuration is pinned here where failures are instant.
"""

from __future__ import annotations

from pathlib import Path

from consumer.devtools import procs
from consumer.devtools.kafka_local import LocalKafka, random_cluster_id


def _props(kafka: LocalKafka) -> dict[str, str]:
    lines = kafka.render_properties().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_properties_describe_a_combined_single_node_on_loopback(tmp_path: Path) -> None:
    """KRaft combined mode, static voter, loopback listeners, RF 1 for internal topics."""
    kafka = LocalKafka(port=19092, controller_port=19093, extra_properties={"num.partitions": "3"})
    kafka.data_dir = tmp_path
    props = _props(kafka)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "true"
    assert props["log.dirs"].startswith(str(tmp_path))
    assert props["num.partitions"] == "3"  # extra_properties override defaults


def test_cluster_ids_look_like_kafkas() -> None:
    """22 URL-safe base64 characters, never starting with '-', and unique."""
    ids = {random_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert len(cid) == 22 and not cid.startswith("-")
        assert set(cid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_free_ports_are_bindable_and_closed_ports_report_closed() -> None:
    """free_port returns a port nothing listens on yet."""
    port = procs.free_port()
    assert 0 < port < 65536
    assert not procs.port_open(port)


def test_log_tail_collapses_repeated_warnings(tmp_path: Path) -> None:
    """A retry loop's identical warnings appear once, so the real error stays visible."""
    kafka = LocalKafka()
    kafka.data_dir = tmp_path
    (tmp_path / "logs").mkdir()
    lines = [f"[2026-01-01 00:00:0{i},000] WARN same thing" for i in range(5)] + ["[x] ERROR boom"]
    (tmp_path / "logs" / "server.log").write_text("\n".join(lines))
    assert kafka._log_tail().splitlines() == [lines[0], "[x] ERROR boom"]
