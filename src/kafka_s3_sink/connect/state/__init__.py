"""Control-plane state: connector configs (config topic or file) and consumer-group offsets."""
