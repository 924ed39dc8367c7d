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
    """Per topic, the records ``group`` has not committed past (end offsets minus committed)."""
    from kafka import KafkaConsumer

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
        tps = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(tps)
    finally:
        consumer.close()
        admin.close()
    behind: dict[str, int] = dict.fromkeys(topics, 0)
    for tp in tps:
        committed = offsets[tp].offset if tp in offsets else 0
        behind[tp.topic] += ends[tp] - max(committed, 0)
    return behind
