"""The input quality gate on Spark: the same checks and the same report as on DuckDB, from the same demo.

The demo is generated once into a DuckDB file and copied into the Spark warehouse's raw tables (the rows `kpiflow
demo-data` loads on a spark target). Both are damaged with the same DuckDB-dialect statements through the warehouse
interface (on Spark an UPDATE rewrites its parquet table, warehouse/spark_rewrite.py), and the gate's reports are
compared check by check: a null key, a duplicate key, a value outside the accepted set and outside the vocabulary, a
row check (negative quantities) and the rule it breaks too. Then `--quarantine` moves the same rows on both engines
and loses none. One Spark session for the module, in this process (GE's Spark datasource uses it too); the
scenarios run in order on the one Spark warehouse (a Derby metastore cannot be copied while it is open). Fast tests
check, without Spark, the SQL the gate renders for Spark and the type names it gives GE.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from gate_damage import DAMAGE, DAMAGE_CAUGHT

from kpiflow.config import Settings
from kpiflow.quality import run_gate
from kpiflow.quality.declarations import CHECKS_FILE, load_gate_spec
from kpiflow.warehouse import warehouse_for
from kpiflow.warehouse.spark import SparkWarehouse

REPO = Path(__file__).resolve().parents[2]
SCALE, START, RUN_DATE = 0.02, date(2024, 1, 1), date(2024, 1, 31)


@dataclass(frozen=True)
class Engines:
    spark: Settings
    duckdb_file: Path
    folder: Path


def _duckdb_settings(path: Path) -> Settings:
    return Settings(REPO, path, path.parent / "marts.duckdb", "dev")


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    from kpiflow.demo import generate_demo_warehouse
    from kpiflow.demo.spark import copy_raw_into_spark

    folder = tmp_path_factory.mktemp("spark_gate")
    duckdb_file = folder / "clean" / "kpiflow.duckdb"
    generate_demo_warehouse(duckdb_file, scale=SCALE, start=START, end=RUN_DATE)
    patch = pytest.MonkeyPatch()
    patch.setenv("KPIFLOW_SPARK_DIR", str(folder / "spark"))
    spark_settings = Settings(REPO, folder / "spark_state" / "w.duckdb", folder / "spark_state" / "m.duckdb", "spark")
    warehouse = warehouse_for(spark_settings)
    assert isinstance(warehouse, SparkWarehouse)
    try:
        copy_raw_into_spark(warehouse.spark(), duckdb_file)
        yield Engines(spark_settings, duckdb_file, folder)
    finally:
        warehouse.spark().stop()
        patch.undo()


def _damage(settings: Settings, statements: tuple[str, ...]) -> None:
    with warehouse_for(settings).connect() as session:
        for statement in statements:
            session.execute(statement)


def _duckdb_copy(engines: Engines, name: str, statements: tuple[str, ...]) -> Settings:
    path = engines.folder / name / "kpiflow.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(engines.duckdb_file, path)
    settings = _duckdb_settings(path)
    _damage(settings, statements)
    return settings


def verdicts(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    """What the report says of each check: check, table, column, outcome, counts, the rows named, the message."""
    return {
        (r["name"], r["table"], r["column"], r["success"], r["failing_rows"], r["quarantined_rows"],
         tuple(r["example_keys"]), r["message"])
        for r in report["results"]
    }  # fmt: skip


def _differences(spark: dict[str, Any], duck: dict[str, Any]) -> list[str]:
    only_spark, only_duck = verdicts(spark) - verdicts(duck), verdicts(duck) - verdicts(spark)
    return [f"spark: {v}" for v in sorted(only_spark, key=str)] + [f"duckdb: {v}" for v in sorted(only_duck, key=str)]


def _counts(settings: Settings, tables: tuple[str, ...]) -> dict[str, int]:
    with warehouse_for(settings).connect(read_only=True) as session:
        return {
            f"{schema}.{name}": session.execute(f"select count(*) from {schema}.{name}").fetchone()[0]
            for schema in ("raw", "quarantine")
            for name in tables
            if session.has_relation(f"{schema}.{name}")
        }


@pytest.fixture(scope="module")
def reports(engines: Engines) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Clean, damaged, then damaged with --quarantine: (Spark report, DuckDB report) each, in that order."""
    found = {}
    clean = run_gate(engines.spark, RUN_DATE, quarantine=False).to_dict()
    found["clean"] = (clean, run_gate(_duckdb_copy(engines, "duck_clean", ()), RUN_DATE, quarantine=False).to_dict())
    _damage(engines.spark, DAMAGE)
    damaged = run_gate(engines.spark, RUN_DATE, data_docs=False, quarantine=False).to_dict()
    duck_damaged = _duckdb_copy(engines, "duck_damaged", DAMAGE)
    found["damaged"] = (damaged, run_gate(duck_damaged, RUN_DATE, data_docs=False, quarantine=False).to_dict())
    found["counts_before"] = (_counts(engines.spark, ("orders", "order_lines")), {})
    quarantined = run_gate(engines.spark, RUN_DATE, data_docs=False).to_dict()
    found["quarantined"] = (quarantined, run_gate(duck_damaged, RUN_DATE, data_docs=False).to_dict())
    return found


@pytest.mark.slow
def test_the_clean_demo_passes_on_spark_with_the_duckdb_report(reports, engines: Engines) -> None:
    spark, duck = reports["clean"]
    assert spark["passed"] and duck["passed"]
    assert len(spark["results"]) == len(duck["results"]) > 300
    assert _differences(spark, duck) == []
    assert spark["inputs_through"] == duck["inputs_through"] == RUN_DATE.isoformat()
    assert spark["warehouse"] == f"spark:{engines.folder / 'spark'}"
    docs = Path(spark["data_docs_path"])  # Data Docs, one validation page per raw table, as on DuckDB
    assert docs.is_file() and "raw.orders" in docs.read_text()
    assert len(list((docs.parent / "validations").rglob("*.html"))) == len({r["table"] for r in spark["results"]})


@pytest.mark.slow
def test_damaged_data_fails_on_spark_naming_the_same_tables_columns_and_rows(reports) -> None:
    spark, duck = reports["damaged"]
    assert {r["name"] for r in spark["results"] if not r["success"]} == DAMAGE_CAUGHT
    assert not spark["passed"] and not duck["passed"]
    assert _differences(spark, duck) == []
    assert spark["quarantined_rows"] == {}
    not_null = next(r for r in spark["results"] if r["name"] == "orders.store_id.not_null")
    assert (not_null["failing_rows"], not_null["example_keys"]) == (1, ["order_id=202401010000001 (store_id=NULL)"])
    vocabulary = next(r for r in spark["results"] if r["name"] == "products.category.vocabulary")
    assert "Garden (2 rows)" in vocabulary["message"] and vocabulary["severity"] == "warn"


@pytest.mark.slow
def test_quarantine_moves_the_same_rows_on_spark_and_loses_none(reports, engines: Engines) -> None:
    spark, duck = reports["quarantined"]
    before, _ = reports["counts_before"]
    assert _differences(spark, duck) == []
    assert spark["quarantined_by_check"] == duck["quarantined_by_check"]
    assert spark["quarantined_rows"] == {"order_lines": 3}
    after = _counts(engines.spark, ("orders", "order_lines"))
    for name in ("orders", "order_lines"):  # every row is in raw or in quarantine
        assert after[f"raw.{name}"] + after.get(f"quarantine.{name}", 0) == before[f"raw.{name}"]
    with warehouse_for(engines.spark).connect(read_only=True) as session:
        assert session.execute("select count(*) from raw.order_lines where quantity < 0").fetchone() == (0,)
        moved = session.execute("select quantity, _check from quarantine.order_lines").fetchall()
    assert moved == [(-2, "order_lines.quantity.positive")] * 3


def _spark_check_sql(check_type: type) -> str:
    from kpiflow.quality import specs as s
    from kpiflow.quality.sql import Context, plausible_bounds, to_sql, unexpected_rows_query

    gate = load_gate_spec(REPO / CHECKS_FILE)
    check = next(c for c in gate.checks if isinstance(c, check_type))
    ctx = Context("raw", RUN_DATE, gate.founded_on, dialect="spark")
    if check_type is s.Plausible:
        return to_sql(plausible_bounds(check, ctx), "spark")
    return unexpected_rows_query(check, ctx, gate.table(check.table).key)


def test_the_volume_calendar_is_rendered_for_spark() -> None:
    """DuckDB's `generate_series(...) as g(d)` in FROM: sqlglot writes `EXPLODE(SEQUENCE(...), _u(g))`, which Spark
    refuses; the gate explodes the sequence in a subquery instead."""
    from kpiflow.quality import specs as s

    text = _spark_check_sql(s.Volume)
    assert "FROM (SELECT EXPLODE(SEQUENCE(" in text and ") AS d) AS g" in text and "_u(" not in text


def test_quantiles_are_rendered_as_spark_percentiles() -> None:
    """sqlglot writes `quantile_cont(x, p)` as PERCENTILE_CONT(x, p); Spark is given `percentile(x, p)` (the same
    linear interpolation)."""
    from kpiflow.quality import specs as s

    text = _spark_check_sql(s.Plausible)
    assert "PERCENTILE(v.x, 0.001)" in text and "PERCENTILE_CONT" not in text


def test_every_type_family_names_a_spark_type_class() -> None:
    """GE's type check on Spark compares against pyspark.sql.types classes; a family naming none fails every column
    ("No recognized spark types")."""
    import pyspark.sql.types as spark_types

    from kpiflow.quality.expectations import TYPE_NAMES

    for family, names in TYPE_NAMES.items():
        assert [name for name in names if hasattr(spark_types, name)], family
