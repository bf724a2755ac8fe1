"""The pipeline: codec, converters, transforms, partitioners, formats."""
