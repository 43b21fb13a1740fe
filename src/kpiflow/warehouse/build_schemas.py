"""Where a server engine builds the copies of the published schemas (`marts` -> `marts__build`) before publishing.

dbt builds there on PostgreSQL and Spark (macros/generate_schema_name.sql), the scorecards write there through a
build session, and publish makes the audited copies the published ones. A DuckDB build is published by copying its
file, so it keeps the plain names.
"""

from __future__ import annotations

from kpiflow.warehouse.fingerprints import PUBLISHED_SCHEMAS

BUILD_SUFFIX = "__build"


def build_schema(schema: str) -> str:
    """Where dbt and the scorecards build the copy of a published schema (`marts` -> `marts__build`)."""
    return schema + BUILD_SUFFIX


BUILD_RENAMES: tuple[tuple[str, str], ...] = tuple((schema, build_schema(schema)) for schema in PUBLISHED_SCHEMAS)
