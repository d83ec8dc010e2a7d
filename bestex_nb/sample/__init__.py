"""Synthetic sample extracts for a quarter of a retail broker (see data/sample/README.md)."""

from .generate import generate

__all__ = ["generate"]
