"""Output formats: the bytes of one object from the values of its records."""
