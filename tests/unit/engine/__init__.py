"""The engine: delivery bookkeeping."""
