"""Kafka Connect compatibility: connector configs, the REST API, and the connector registry."""
