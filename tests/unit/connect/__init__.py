"""The Kafka Connect control plane: connector configs, validation, REST API, state."""
