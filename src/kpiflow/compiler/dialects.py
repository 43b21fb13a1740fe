"""Which sqlglot dialect a dbt target speaks: read from the profile's adapter type."""

from __future__ import annotations

import os
import re

import yaml

from kpiflow.config import Settings

ADAPTER_DIALECTS = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "redshift": "redshift",
    "spark": "spark",
    "databricks": "databricks",
    "trino": "trino",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}
_ENV_VAR = re.compile(r"\{\{\s*env_var\('(\w+)'(?:,\s*'([^']*)')?\)\s*\}\}")


def target_dialect(settings: Settings) -> str:
    """The dialect of the active dbt target (KPIFLOW_TARGET); DuckDB when it cannot be told."""
    adapter = str(target_output(settings).get("type", "duckdb"))
    return ADAPTER_DIALECTS.get(adapter, "duckdb")


def target_output(settings: Settings) -> dict[str, object]:
    """The active dbt target's output in profiles/profiles.yml, as written (env_var() not rendered); {} when none."""
    path = settings.profiles_dir / "profiles.yml"
    if not path.exists():
        return {}
    profile = (yaml.safe_load(path.read_text()) or {}).get("kpiflow", {})
    outputs = profile.get("outputs", {})
    target = settings.target
    if target not in outputs:
        default = str(profile.get("target", "dev"))
        match = _ENV_VAR.search(default)
        target = os.environ.get(match.group(1), match.group(2) or "dev") if match else default
    return dict(outputs.get(target) or {})
