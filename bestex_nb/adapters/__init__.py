"""Adapters from real public formats into the extract contract (lobster: LOBSTER order-book files)."""
