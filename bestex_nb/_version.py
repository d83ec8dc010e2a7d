"""The package version, in one place (pyproject.toml reads it; the store and the manifests record it)."""

__version__ = "0.1.0"
