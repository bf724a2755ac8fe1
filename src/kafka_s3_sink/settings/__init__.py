"""Service settings: the .env file, its variables, and the reference connectors built from them."""
