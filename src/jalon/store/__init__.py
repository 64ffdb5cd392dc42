"""The DuckDB store that contains loaded events and accounts."""

from jalon.store.schema import account_column, property_column
from jalon.store.store import Store

__all__ = ["Store", "account_column", "property_column"]
