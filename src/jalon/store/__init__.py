"""The DuckDB store that contains loaded events and accounts."""

from jalon.store.schema import property_column
from jalon.store.store import Store

__all__ = ["Store", "property_column"]
