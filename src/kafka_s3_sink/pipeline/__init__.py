"""The record path: pure functions from a Kafka record to the bytes and key of its object."""
