"""Small Kafka look-ups the integration tests share."""

from __future__ import annotations

from kafka import KafkaAdminClient, TopicPartition


def committed_offset(bootstrap: str, group: str, topic: str) -> int | None:
    """The offset ``group`` has committed on partition 0 of ``topic``, if any."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    position = offsets.get(TopicPartition(topic, 0))
    return None if position is None else int(position.offset)


def group_behind(bootstrap: str, group: str, topics: list[str]) -> dict[str, int]:
    """Per topic, the records ``group`` has not committed past: what a reader of committed
    records would get from the group's committed offsets (a transaction's commit marker takes an
    offset but is no record, so the end offset can stay one past what the group commits)."""
    from kafka import KafkaConsumer

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    behind: dict[str, int] = dict.fromkeys(topics, 0)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, max(offsets[tp].offset, 0) if tp in offsets else 0)
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for tp, records in consumer.poll(timeout_ms=500).items():
                behind[tp.topic] += sum(1 for r in records if r.offset < ends[tp])
    finally:
        consumer.close()
        admin.close()
    return behind
