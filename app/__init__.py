"""Gradient Flow Lab's web layer: validate with pydantic, call the core, serialise."""

__version__ = "0.1.0"
