"""Archive Kafka topics into object storage."""

__version__ = "0.1.0"
