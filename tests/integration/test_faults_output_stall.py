"""An output topic that refuses every write (here: a dead-letter topic whose ``max.message.bytes``
is smaller than any record) never fails silently: the write is retried and counted, the writer
reports a stall (intake pauses, readiness turns false and names the topic), and the record is
written — without its value — as soon as the topic takes it."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from consumer.kafka.acked_producer import STALL_PAUSE_S
from consumer.kafka.dlq import H_VALUE_OMITTED, DeadLetter, DeadLetterWriter, headers_dict
from consumer.observability.kafka_health import EngineReadiness


class Engine:
    ready = True
    assigned: set[Any] = {("t", 0)}


async def test_unwritable_dead_letter_topic_stalls_then_recovers(
    kafka_bootstrap: str, kafka_admin: AdminClient, new_topic: Any
) -> None:
    topic = new_topic(config={"max.message.bytes": "200"})
    writer = DeadLetterWriter({"bootstrap.servers": kafka_bootstrap}, topic)
    assert await asyncio.to_thread(writer.prepare) == 200
    writer.start()
    letter = DeadLetter(
        topic="events.purchase", partition=0, offset=7, key=b"k", value=b"v" * 500, headers=[],
        stage="decode", platform="*", outcome="rejected", reason="not avro",
    )  # fmt: skip
    write = asyncio.create_task(writer.write(letter))
    readiness = EngineReadiness(Engine(), None, outputs=[writer])
    for _ in range(300):
        if writer.stalled_s >= STALL_PAUSE_S:
            break
        await asyncio.sleep(0.1)
    assert writer.stalled_s >= STALL_PAUSE_S and not write.done()
    assert writer.out.errors > 0
    ok, reason = readiness.is_ready()
    assert not ok and f"output topic {topic} unwritable" in reason

    entry = ConfigEntry("max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
    kafka_admin.incremental_alter_configs([resource])[resource].result(timeout=30)
    partition, offset = await asyncio.wait_for(write, timeout=60)
    assert writer.stalled_s == 0 and readiness.is_ready()[0]
    await writer.close()

    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "stall-probe"})
    consumer.assign([TopicPartition(topic, partition, offset)])
    msg = None
    for _ in range(30):
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            break
    consumer.close()
    assert msg is not None and msg.value() is None
    assert headers_dict(msg.headers())[H_VALUE_OMITTED] == "too_large"
