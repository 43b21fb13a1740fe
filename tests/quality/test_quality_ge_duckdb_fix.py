"""GE 1.x on DuckDB gives exact answers only with kpiflow.quality.ge_duckdb_fix installed.

Each test checks one expectation on a table with a known number of bad rows. The `upstream` tests document
that the defects still exist without the fix: when they start failing, GE or duckdb-engine fixed them and the
fix module can go.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

gx = pytest.importorskip("great_expectations")
import great_expectations.expectations as gxe  # noqa: E402

from kpiflow.quality import ge_duckdb_fix  # noqa: E402

NULLS = 7  # value is NULL on rows 0, 15, 30, ..., 90 of 100


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ge_fix") / "fix.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        for schema in ("raw", "main"):
            con.execute(
                f"create table {schema}.readings as select i as reading_id, "
                "case when i % 15 = 0 then null else i end as value, "
                "cast(i as decimal(12,2)) as amount, cast(date '2024-01-01' + to_days(i) as date) as taken_on "
                "from range(100) r(i)"
            )
    return path


def _validate(path: Path, schema: str, expectation: gxe.Expectation) -> object:
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="w", connection_string=f"duckdb:///{path}")
    with pytest.warns(DeprecationWarning):  # schema_name: the generic SQL datasource has no other way
        asset = source.add_table_asset(name="readings", table_name="readings", schema_name=schema)
    batch = asset.add_batch_definition_whole_table(name="all").get_batch()
    try:
        return batch.validate(expectation)
    finally:
        source.get_execution_engine().engine.dispose()
        source.get_engine().dispose()


@pytest.fixture
def fixed() -> Iterator[None]:
    ge_duckdb_fix.install()
    yield
    ge_duckdb_fix.install()


@pytest.fixture
def unfixed() -> Iterator[None]:
    ge_duckdb_fix.uninstall()
    yield
    ge_duckdb_fix.install()


@pytest.mark.parametrize("schema", ["main", "raw"])
def test_not_null_counts_exactly_the_nulls(warehouse: Path, fixed: None, schema: str) -> None:
    result = _validate(warehouse, schema, gxe.ExpectColumnValuesToNotBeNull(column="value"))
    assert result.success is False
    assert result.result["unexpected_count"] == NULLS
    assert result.result["element_count"] == 100


@pytest.mark.parametrize(
    ("expectation", "unexpected"),
    [
        (gxe.ExpectColumnValuesToBeBetween(column="value", min_value=10), 9),  # 1..9; 0 is NULL, ignored
        (gxe.ExpectColumnValuesToBeUnique(column="value"), 0),
        (gxe.ExpectColumnValuesToBeInSet(column="value", value_set=[1, 2, 3]), 100 - NULLS - 3),
    ],
    ids=["between", "unique", "in_set"],
)
def test_column_map_counts_are_exact(warehouse: Path, fixed: None, expectation, unexpected: int) -> None:
    result = _validate(warehouse, "raw", expectation)
    assert result.result["unexpected_count"] == unexpected


def test_unexpected_rows_query_counts_rows(warehouse: Path, fixed: None) -> None:
    query = "select reading_id from {batch} where value is null"
    result = _validate(warehouse, "raw", gxe.UnexpectedRowsExpectation(unexpected_rows_query=query))
    assert (result.success, result.result["observed_value"]) == (False, NULLS)


@pytest.mark.parametrize(
    ("column", "types", "observed"),
    [("amount", ["DECIMAL"], "DECIMAL"), ("taken_on", ["DATE"], "DATE"), ("reading_id", ["Integer"], "BIGINT")],
)
def test_types_are_reflected_from_the_right_schema(warehouse: Path, fixed: None, column, types, observed) -> None:
    result = _validate(warehouse, "raw", gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=types))
    assert (result.success, result.result["observed_value"]) == (True, observed)


def test_upstream_defect_lost_rows_is_still_there(warehouse: Path, unfixed: None) -> None:
    """Without the fix, the bundled metric query reads no rows: GE raises instead of counting 7 NULLs."""
    result = _validate(warehouse, "main", gxe.ExpectColumnValuesToNotBeNull(column="value"))
    assert result.success is False
    assert "unexpected_count" not in result.result
    assert "list index out of range" in str(result.exception_info)


def test_upstream_defect_no_column_reflection_is_still_there(warehouse: Path, unfixed: None) -> None:
    """Without the fix, SQLAlchemy 2.1's column reflection queries pg_collation, which DuckDB lacks."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"duckdb:///{warehouse}")
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="pg_collation"):
            sa.inspect(engine).get_columns("readings", schema="raw")
    finally:
        engine.dispose()


def test_install_is_idempotent_and_reversible() -> None:
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    ge_duckdb_fix.install()
    patched = SqlAlchemyExecutionEngine.execute_query
    ge_duckdb_fix.install()
    assert SqlAlchemyExecutionEngine.execute_query is patched
    ge_duckdb_fix.uninstall()
    assert SqlAlchemyExecutionEngine.execute_query is not patched
    ge_duckdb_fix.install()
    assert SqlAlchemyExecutionEngine.execute_query is patched


@pytest.mark.parametrize(("query", "count"), [("value is null", NULLS), ("value < 0", 0)])
def test_unexpected_row_count_runs_its_query_once(warehouse: Path, fixed: None, query: str, count: int) -> None:
    """kpiflow's SQL checks count the query's rows in one execution; GE's own expectation runs it twice."""
    import sqlalchemy as sa

    from kpiflow.quality.expectations import UnexpectedRowCount

    marker = "/* kpiflow-count-once */"
    sql = f"select reading_id from {{batch}} where {query} {marker}"
    executed: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        executed.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        counted = _validate(warehouse, "raw", UnexpectedRowCount(unexpected_rows_query=sql))
        runs_alone = sum(marker in statement for statement in executed)
        executed.clear()
        builtin = _validate(warehouse, "raw", gxe.UnexpectedRowsExpectation(unexpected_rows_query=sql))
        runs_builtin = sum(marker in statement for statement in executed)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    assert (counted.success, counted.result["observed_value"]) == (count == 0, count)
    assert (builtin.success, builtin.result["observed_value"]) == (counted.success, count)
    assert (runs_alone, runs_builtin) == (1, 2)
