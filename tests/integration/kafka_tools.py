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
