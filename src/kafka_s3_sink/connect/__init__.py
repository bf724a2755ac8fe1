"""The Kafka Connect control plane: connector configs, the REST API, stored state, the worker."""
