"""Tests, mirroring the pipeline modules."""
