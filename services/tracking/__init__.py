"""The tracking service: stores screening tasks, routes them to teams, serves the queue.

It is the only part of the system that owns PostgreSQL (ARCHITECTURE.md); the stream processors
hand it tasks over Kafka and never touch the database themselves.
"""
