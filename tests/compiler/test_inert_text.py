"""Every user-written string is inert (issue 15 item 1): Jinja, quotes, backslashes and newlines in every free-text
field of the metric YAML are published by dbt exactly as written, in marts.kpi_catalog and in dbt's docs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from kpiflow.compiler import compile_project
from kpiflow.compiler.inert import jinja_inert
from kpiflow.config import Settings

REPO = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).parent / "project"

# One payload per field, so a field that leaks shows up by name; together they hold every Jinja opener and closer,
# `{% endraw %}`, single and double quotes, backslashes and newlines.
PAYLOADS = {
    "label": 'Jinja {{ 6 * 7 }} {{ env_var("HOME") }}',
    "description": "{% endraw %}{% raw %} it's {% if true %}x{% endif %} {# not a comment #}\nline 2 \\ back\\\\slash",
    "owner": "{{ var('x') }} owner's {%- set y = 1 -%}",
    "format": '{#- "#,##0" -#} }} %} #}',
    "mart": "Wide {{ ref('int_sales') }} mart\n{% endraw %} \"double\" 'single' \\n {",
    "literal": "{% endraw %}{{ 7 * 6 }}'{#",
}

MODELS_SQL = {
    "int_sales": "select * from (values ('l1', 'o1', 's1', 'c1', date '2024-01-05', 10.00::decimal(12,2), 2), "
    "('l2', 'o2', 's2', 'c2', date '2024-02-10', 20.00, 3)) t(line_id, order_id, store_id, customer_id, sold_on, "
    "amount, quantity)",
    "dim_stores": "select * from (values ('s1', 'north', 100), ('s2', 'south', 200)) t(store_id, region, "
    "selling_area_sqft)",
    "int_inventory": "select date '2024-01-31' as snapshot_date, 's1' as store_id, 1.00::decimal(12,2) as value",
    "metricflow_time_spine": "select cast(range as date) as date_day from range(date '2023-12-01', "
    "date '2024-03-31', interval 1 day)",
}


def _metrics() -> dict:
    literal = PAYLOADS["literal"].replace("'", "''")
    kpi = {
        "unit": "currency",
        "format": PAYLOADS["format"],
        "direction": "higher_is_better",
        "owner": PAYLOADS["owner"],
        "perspective": "finance",
        "level": "operational",
        "natural_dimensions": ["store"],
        "grains": ["month"],
    }
    return {
        "semantic_models": [
            {
                "name": "sales",
                "model": "int_sales",
                "description": PAYLOADS["description"],
                "agg_time_dimension": "sold_on",
                "entities": [
                    {"name": "line", "type": "primary", "expr": "line_id"},
                    {"name": "store", "type": "foreign", "expr": "store_id"},
                ],
                "dimensions": [{"name": "sold_on", "type": "time", "time_granularity": "day"}],
                "measures": [
                    {
                        "name": "revenue",
                        "agg": "sum",
                        "expr": f"case when store_id = '{literal}' then 0 else amount end",
                        "label": PAYLOADS["label"],
                    }
                ],
            },
            {
                "name": "stores",
                "model": "dim_stores",
                "entities": [{"name": "store", "type": "primary", "expr": "store_id"}],
                "dimensions": [{"name": "region", "type": "categorical", "label": PAYLOADS["label"]}],
            },
        ],
        "metrics": [
            {
                "name": "revenue",
                "type": "simple",
                "label": PAYLOADS["label"],
                "description": PAYLOADS["description"],
                "measure": "revenue",
                "filter": f"store__region <> '{literal}'",
                "kpi": kpi,
            }
        ],
        "marts": [
            {
                "name": "mart_hostile",
                "description": PAYLOADS["mart"],
                "metrics": ["revenue"],
                "group_by": ["metric_time__month"],
            }
        ],
    }


def _project(root: Path) -> Path:
    (root / "models" / "intermediate").mkdir(parents=True)
    shutil.copy(PROJECT / "models" / "intermediate" / "_models.yml", root / "models" / "intermediate")
    for name, sql in MODELS_SQL.items():
        (root / "models" / "intermediate" / f"{name}.sql").write_text(sql + "\n", encoding="utf-8")
    shutil.copytree(REPO / "macros", root / "macros")
    shutil.copytree(REPO / "profiles", root / "profiles")
    shutil.copy(REPO / "dbt_project.yml", root / "dbt_project.yml")
    (root / "seeds").mkdir()
    (root / "metrics").mkdir()
    text = yaml.safe_dump(_metrics(), sort_keys=False, allow_unicode=True)
    (root / "metrics" / "hostile.yml").write_text(text, encoding="utf-8")
    return root


def test_jinja_inert_renders_to_itself():
    from jinja2 import Environment

    for text in [*PAYLOADS.values(), "{", "{{", "{%", "{#", "}}{{-", "a{{ '{' }}b"]:
        assert Environment().from_string(jinja_inert(text)).render() == text


@pytest.mark.slow
def test_hostile_text_is_published_byte_for_byte(tmp_path, dbt_runner):
    project = _project(tmp_path / "project")
    warehouse = tmp_path / "warehouse.duckdb"
    settings = Settings(project_dir=project, warehouse_path=warehouse, marts_path=tmp_path / "m.duckdb", target="dev")
    compile_project(settings, "duckdb")
    dbt_runner(project, warehouse, "run")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        label, description, owner, fmt = con.execute(
            "select label, description, owner, format from marts.kpi_catalog where kpi = 'revenue'"
        ).fetchone()
        values = con.execute(
            "select value from kpi.kpi__revenue where dimension_set = 'overall' order by period_start"
        ).fetchall()
    assert label == PAYLOADS["label"]
    assert description == PAYLOADS["description"]
    assert owner == PAYLOADS["owner"]
    assert fmt == PAYLOADS["format"]
    assert values == [(10.0,), (20.0,)]  # the hostile literals are compared as data, matching no row

    manifest = json.loads((project / "target" / "manifest.json").read_text(encoding="utf-8"))
    nodes = {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    expected = f"{PAYLOADS['label']}: {PAYLOADS['description']}"
    assert nodes["kpi__revenue"]["description"] == f"{expected} (all grains and breakdowns)"
    assert nodes["mart_hostile"]["description"] == PAYLOADS["mart"]
    assert nodes["mart_hostile"]["columns"]["revenue"]["description"] == (
        f"{PAYLOADS['label']} (currency): {PAYLOADS['description']}"
    )


def test_semantic_layer_export_keeps_text_inert(tmp_path):
    from jinja2 import Environment

    from kpiflow.compiler.export_dbt_sl import export_semantic_layer
    from kpiflow.compiler.validate import load_graph

    project = _project(tmp_path / "project")
    export_semantic_layer(load_graph(project), tmp_path / "sl")
    metrics = yaml.safe_load((tmp_path / "sl" / "metrics.yml").read_text(encoding="utf-8"))["metrics"]
    models = yaml.safe_load((tmp_path / "sl" / "semantic_models.yml").read_text(encoding="utf-8"))
    env = Environment()
    (metric,) = metrics
    assert env.from_string(metric["label"]).render() == PAYLOADS["label"]
    assert env.from_string(metric["description"]).render() == PAYLOADS["description"]
    where = env.from_string(metric["filter"]).render(Dimension=lambda name: name)
    assert where == "store__region <> '" + PAYLOADS["literal"].replace("'", "''") + "'"
    (sales,) = [m for m in models["semantic_models"] if m["name"] == "sales"]
    assert env.from_string(sales["description"]).render() == PAYLOADS["description"]
    assert PAYLOADS["literal"].replace("'", "''") in env.from_string(sales["measures"][0]["expr"]).render()


def test_model_header_cannot_carry_code_from_a_file_name():
    from kpiflow.compiler.model_names import header

    line = header('sales{{ env_var("HOME") }}\nselect 1 --{% endraw %}.yml')
    assert line.count("\n") == 1 and line.endswith("\n")  # the comment cannot end early
    assert "{" not in line and "}" not in line
