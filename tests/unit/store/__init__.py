"""The object stores."""
