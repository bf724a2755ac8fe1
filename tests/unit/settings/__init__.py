"""The service settings: .env reading and the variables table."""
