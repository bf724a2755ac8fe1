"""Kafka Connect compatibility: connector configs, converters, transforms, formats, partitioners.

A package so that its test modules (test_config.py...) do not clash with tests/unit's own.
"""
