"""Connector configs: the keys table, the parser into a ConnectorSpec, validation."""
