"""The Kafka Connect REST API: the Starlette app, its OpenAPI document, the server."""
