"""Integration tests: one real adapter (Kafka broker, PostgreSQL) at a time."""
