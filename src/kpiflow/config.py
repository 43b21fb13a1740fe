"""Where kpiflow reads and writes, from environment variables with project-relative defaults.

Every command goes through `Settings.from_env()` so that KPIFLOW_WAREHOUSE, KPIFLOW_MARTS and
KPIFLOW_TARGET are honoured in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kpiflow.errors import UserInputError

GENERATED_FOLDER = "generated"  # models/<this>: what `kpiflow compile` writes, never an input of the compiler

if TYPE_CHECKING:
    import psycopg

# Telemetry off before dbt, Prefect or Great Expectations are imported anywhere: no network at run time.
_OFFLINE_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DBT_VERSION_CHECK": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}


def disable_telemetry() -> None:
    """Set the variables that keep dbt, Prefect and GE from phoning home (unless the user set them)."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


disable_telemetry()


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding dbt_project.yml: KPIFLOW_PROJECT_DIR, else the nearest ancestor of cwd."""
    explicit = os.environ.get("KPIFLOW_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dbt_project.yml").is_file():
            return folder
    # Installed package used outside a checkout: fall back to the source tree it came from.
    source_tree = Path(__file__).resolve().parents[2]
    if (source_tree / "dbt_project.yml").is_file():
        return source_tree
    return here


@dataclass(frozen=True)
class Settings:
    """Resolved paths and names for one kpiflow invocation."""

    project_dir: Path
    warehouse_path: Path
    marts_path: Path
    target: str

    @classmethod
    def from_env(cls, project_dir: Path | None = None) -> Settings:
        root = (project_dir or find_project_root()).resolve()

        def _path(var: str, default: str) -> Path:
            raw = Path(os.environ.get(var, default))
            return raw if raw.is_absolute() else (root / raw)

        return cls(
            project_dir=root,
            warehouse_path=_path("KPIFLOW_WAREHOUSE", "warehouse/kpiflow.duckdb"),
            marts_path=_path("KPIFLOW_MARTS", "warehouse/marts.duckdb"),
            target=os.environ.get("KPIFLOW_TARGET", "dev"),
        )

    @property
    def metrics_dir(self) -> Path:
        return self.project_dir / "metrics"

    @property
    def models_dir(self) -> Path:
        return self.project_dir / "models"

    @property
    def generated_dir(self) -> Path:
        return self.models_dir / GENERATED_FOLDER

    @property
    def seeds_dir(self) -> Path:
        return self.project_dir / "seeds"

    @property
    def profiles_dir(self) -> Path:
        return self.project_dir / "profiles"

    @property
    def state_dir(self) -> Path:
        """Run reports, locks and Data Docs live beside the warehouse file, not in the source tree."""
        return self.warehouse_path.parent / "state"

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: absolute warehouse path so cwd does not matter."""
        env = dict(os.environ)
        env["KPIFLOW_WAREHOUSE"] = str(self.warehouse_path)
        env["KPIFLOW_MARTS"] = str(self.marts_path)
        env["KPIFLOW_TARGET"] = self.target
        env["DBT_PROFILES_DIR"] = str(self.profiles_dir)
        env["DBT_PROJECT_DIR"] = str(self.project_dir)
        return env


PG_ENV_DEFAULTS = {"KPIFLOW_PG_HOST": "127.0.0.1", "KPIFLOW_PG_PORT": "5432", "KPIFLOW_PG_DBNAME": "kpiflow"}


@dataclass(frozen=True)
class PostgresConnection:
    """How kpiflow reaches a PostgreSQL warehouse: the KPIFLOW_PG_* variables the `pg` dbt target reads too.

    The password is kept out of repr() and of `address`, the form every message and summary shows."""

    host: str
    port: int
    user: str
    dbname: str
    password: str = field(repr=False)

    @classmethod
    def from_env(cls) -> PostgresConnection:
        def _value(var: str) -> str:
            value = os.environ.get(var, PG_ENV_DEFAULTS.get(var, ""))
            if not value:
                raise UserInputError(f"{var} is not set: a PostgreSQL target reads its connection from KPIFLOW_PG_*")
            return value

        port = _value("KPIFLOW_PG_PORT")
        if not port.isdigit():
            raise UserInputError(f"KPIFLOW_PG_PORT={port!r}: use a port number")
        return cls(
            host=_value("KPIFLOW_PG_HOST"),
            port=int(port),
            user=_value("KPIFLOW_PG_USER"),
            dbname=_value("KPIFLOW_PG_DBNAME"),
            password=_value("KPIFLOW_PG_PASSWORD"),
        )

    @property
    def address(self) -> str:
        """user@host:port/dbname, without the password."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"

    def connect(self) -> psycopg.Connection:
        """A psycopg connection; a refusal names the address and the variables to check, never the password."""
        import psycopg

        try:
            return psycopg.connect(**self.connect_kwargs(), connect_timeout=10)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1]
            raise UserInputError(
                f"cannot connect to PostgreSQL {self.address}: {reason} (check KPIFLOW_PG_HOST, KPIFLOW_PG_PORT, "
                "KPIFLOW_PG_USER, KPIFLOW_PG_PASSWORD, KPIFLOW_PG_DBNAME)"
            ) from None

    def connect_kwargs(self) -> dict[str, str | int]:
        """Keyword arguments for psycopg.connect (kept out of any connection string a message could print)."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "password": self.password,
        }
