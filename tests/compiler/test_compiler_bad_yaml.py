"""The bad-YAML corpus: each mistake an analyst can make, checked for its exact message (file, line, field, fix)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from kpiflow.compiler import compile_project
from kpiflow.compiler.issues import SpecInvalid
from kpiflow.compiler.validate import load_graph
from kpiflow.config import Settings

PROJECT = Path(__file__).parent / "project"

KPI = (
    "{unit: percent, direction: higher_is_better, owner: o, perspective: finance, level: operational,"
    " natural_dimensions: [store], grains: [month]}"
)
MODEL = """
semantic_models:
  - name: sales
    model: int_sales
    agg_time_dimension: sold_on
    entities:
      - {name: line, type: primary, expr: line_id}
      - {name: store, type: foreign, expr: store_id}
    dimensions:
      - {name: sold_on, type: time, time_granularity: day}
    measures:
      - {name: revenue, agg: sum, expr: amount}
  - name: stores
    model: dim_stores
    entities:
      - {name: store, type: primary, expr: store_id}
    dimensions:
      - {name: region, type: categorical}
metrics:
  - {name: revenue, type: simple, label: Revenue, description: Sales., measure: revenue, kpi: KPI}
""".replace("KPI", KPI)

# (id, YAML appended to or replacing parts of MODEL, expected message). Line numbers count from the file top.
CORPUS = [
    (
        "unknown-measure",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenu}\n",
        "metrics/bad.yml:20: error: metrics[1].measure: unknown measure 'revenu' Did you mean 'revenue'?",
    ),
    (
        "unknown-metric-in-ratio",
        "  - {name: m2, type: ratio, label: M, description: D, numerator: revenue, denominator: revnue}\n",
        "metrics/bad.yml:20: error: metrics[1].denominator: unknown metric 'revnue' Did you mean 'revenue'?",
    ),
    (
        "unknown-dimension-in-filter",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue, filter: \"store__regon = 'n'\"}\n",
        "metrics/bad.yml:20: error: metrics[1].filter: filter: 'store__regon' is not a dimension reachable from "
        "semantic model 'sales' Did you mean 'store__region'?",
    ),
    (
        "unknown-entity-in-filter",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue, filter: \"shop__region = 'n'\"}\n",
        "metrics/bad.yml:20: error: metrics[1].filter: filter: 'shop__region' is not a dimension reachable from "
        "semantic model 'sales' Did you mean 'store__region'?",
    ),
    (
        "derived-cycle",
        "  - {name: a, type: derived, label: A, description: D, expr: b + 1, metrics: [{name: b}]}\n"
        "  - {name: b, type: derived, label: B, description: D, expr: a * 2, metrics: [{name: a}]}\n",
        "metrics/bad.yml:20: error: metrics[1].metrics: derived metrics form a cycle: a -> b -> a Break the cycle: "
        "a metric cannot depend on itself.",
    ),
    (
        "duplicate-metric",
        "  - {name: revenue, type: simple, label: R, description: D, measure: revenue}\n",
        "metrics/bad.yml:20: error: metrics[1].name: duplicate metric name 'revenue' (first defined at "
        "bad.yml:19) Rename one of them.",
    ),
    (
        "unknown-field",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue, fliter: x}\n",
        "metrics/bad.yml:20: error: metrics[1].fliter: unknown field 'fliter' Did you mean 'filter'?",
    ),
    (
        "missing-label",
        "  - {name: m2, type: simple, description: D, measure: revenue}\n",
        "metrics/bad.yml:20: error: metrics[1].label: required field 'label' is missing",
    ),
    (
        "bad-metric-type",
        "  - {name: m2, type: average, label: M, description: D, measure: revenue}\n",
        "metrics/bad.yml:20: error: metrics[1].type: Input should be 'simple', 'ratio', 'derived', 'cumulative', "
        "'conversion' or 'retention' (got 'average')",
    ),
    (
        "statement-in-expression",
        "  - {name: m2, type: derived, label: M, description: D, expr: 'drop table x', metrics: [{name: revenue}]}\n",
        "metrics/bad.yml:20: error: metrics[1].expr: invalid expression: a DROP statement is not an expression",
    ),
    (
        "subquery-in-filter",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue,"
        " filter: 'store__region in (select secret from passwords)'}\n",
        "metrics/bad.yml:20: error: metrics[1].filter: invalid filter: subqueries and table references are not allowed",
    ),
    (
        "comment-hides-text",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue,"
        " filter: \"store__region = 'n' /* or 1=1 */\"}\n",
        "metrics/bad.yml:20: error: metrics[1].filter: invalid filter: comments are not allowed in expressions",
    ),
    (
        "second-statement",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue,"
        " filter: \"store__region = 'n'; delete from x\"}\n",
        "metrics/bad.yml:20: error: metrics[1].filter: invalid filter: only one expression is allowed (found ';')",
    ),
    (
        "function-not-allowed",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue,"
        " filter: \"getenv('HOME') = store__region\"}\n",
        "metrics/bad.yml:20: error: metrics[1].filter: invalid filter: 'GETENV('HOME')' is not an allowed function "
        "or operator",
    ),
    (
        "derived-unknown-input",
        "  - {name: m2, type: derived, label: M, description: D, expr: revenue - cost, metrics: [{name: revenue}]}\n",
        "metrics/bad.yml:20: error: metrics[1].expr: 'cost' is not one of this metric's inputs Inputs: revenue.",
    ),
    (
        "bad-offset-window",
        "  - {name: m2, type: derived, label: M, description: D, expr: r / p,"
        " metrics: [{name: revenue, alias: r}, {name: revenue, alias: p, offset_window: one year}]}\n",
        "metrics/bad.yml:20: error: metrics[1].metrics[1].offset_window: expected '<count> <unit>' such as "
        "'30 days' or '1 year', got 'one year'",
    ),
    (
        "cumulative-without-window",
        "  - {name: m2, type: cumulative, label: M, description: D, measure: revenue}\n",
        "metrics/bad.yml:20: error: metrics[1].type: a cumulative metric needs exactly one of 'window' or "
        "'grain_to_date'",
    ),
    (
        "band-without-band",
        "  - {name: m2, type: simple, label: M, description: D, measure: revenue, kpi: {unit: count,"
        " direction: within_band, owner: o, perspective: finance, level: strategic}}\n",
        "metrics/bad.yml:20: error: metrics[1].kpi.band: direction 'within_band' needs 'band: [low, high]'",
    ),
    (
        "jinja-in-metric-name",
        '  - {name: "m{{ 6 * 7 }}", type: simple, label: M, description: D, measure: revenue}\n',
        "metrics/bad.yml:20: error: metrics[1].name: 'm{{ 6 * 7 }}' is not a valid name Use letters, digits and "
        "underscores, starting with a letter or an underscore.",
    ),
    (
        "path-in-mart-name",
        "marts:\n  - {name: ../../evil, description: D, metrics: [revenue], group_by: [metric_time__month]}\n",
        "metrics/bad.yml:21: error: marts[0].name: '../../evil' is not a valid name Use letters, digits and "
        "underscores, starting with a letter or an underscore.",
    ),
    (
        "placeholder-in-label",
        "  - {name: m2, type: simple, label: __dbt_ref__secrets, description: D, measure: revenue}\n",
        "metrics/bad.yml:20: error: metrics[1].label: the text contains '__dbt_', which kpiflow reserves for the "
        "references it writes into generated models Reword it.",
    ),
    (
        "unknown-field-in-a-union-branch",
        "  - {name: m2, type: ratio, label: M, description: D, numerator: {name: revenue, filtr: x}, "
        "denominator: revenue}\n",
        "metrics/bad.yml:20: error: metrics[1].numerator.filtr: unknown field 'filtr' Did you mean 'filter'?",
    ),
    (
        "conversion-entity-not-on-the-measure",
        "  - {name: m2, type: conversion, label: M, description: D, conversion: {base_measure: revenue, "
        "conversion_measure: revenue, entity: stor, window: 7 days}}\n",
        "metrics/bad.yml:20: error: metrics[1].conversion.entity: entity 'stor' is not an entity of 'sales' "
        "Did you mean 'store'?",
    ),
    (
        "retention-entity-not-on-the-measure",
        "  - {name: m2, type: retention, label: M, description: D, retention: {measure: revenue, entity: lin}}\n",
        "metrics/bad.yml:20: error: metrics[1].retention.entity: entity 'lin' is not an entity of 'sales' "
        "Did you mean 'line'?",
    ),
]

MODEL_MISTAKES = [
    (
        "unknown-column",
        ("expr: amount}", "expr: amout}"),
        "metrics/bad.yml:11: error: semantic_models[0].measures[0].expr: column 'amout' is not a documented column "
        "of dbt model 'int_sales' Did you mean 'amount'?",
    ),
    (
        "unknown-dbt-model",
        ("model: dim_stores", "model: dim_store"),
        "metrics/bad.yml:13: error: semantic_models[1].model: dbt model 'dim_store' is not documented in any "
        "models/**/*.yml outside models/generated Did you mean 'dim_stores'?",
    ),
    (
        "time-dimension-without-grain",
        ("type: time, time_granularity: day}", "type: time}"),
        "metrics/bad.yml:9: error: semantic_models[0].dimensions[0]: time dimension 'sold_on' has no "
        "time_granularity Add 'time_granularity: day' (or week, month, quarter, year).",
    ),
    (
        "aggregation-does-not-fit-type",
        ("{name: revenue, agg: sum, expr: amount}", "{name: revenue, agg: sum, expr: store_id}"),
        "metrics/bad.yml:11: error: semantic_models[0].measures[0].agg: 'sum' needs a numeric column, but "
        "'store_id' is varchar in 'int_sales' Use count or count_distinct, or cast the column in the expression.",
    ),
    (
        "fan-out-join",
        ("{name: store, type: primary, expr: store_id}", "{name: store, type: foreign, expr: store_id}"),
        None,
    ),
    (
        "jinja-in-measure-name",
        ("{name: revenue, agg: sum, expr: amount}", '{name: "revenue{% endraw %}", agg: sum, expr: amount}'),
        "metrics/bad.yml:11: error: semantic_models[0].measures[0].name: 'revenue{% endraw %}' is not a valid name",
    ),
    ("yaml-syntax", ("    measures:\n", "    measures:\n  - [\n"), "metrics/bad.yml:12: error: YAML syntax"),
    (
        "duplicate-key",
        ("    model: int_sales\n", "    model: int_sales\n    model: int_orders\n"),
        "metrics/bad.yml:4: error: duplicate key 'model' (first at line 3); keep one",
    ),
]


SCORECARD_KPIS = (
    "  - {name: rev_share, type: ratio, label: S, description: D, numerator: revenue, denominator: revenue,"
    f" kpi: {KPI}}}\n"
    f"  - {{name: rev_max, type: simple, label: X, description: D, measure: revenue, kpi: {KPI}}}\n"
)
CARD = """\
role: store_manager
entity: store
kpis:
  - kpi: revenue
    weight: 0.5
  - kpi: rev_share
    weight: 0.3
    target: {constant: 0.2}
  - kpi: rev_max
    weight: 0.2
    target: {baseline: {periods: 6, uplift: 0.1}}
rounding: {applies_to: none}
pay: {scheme: linear}
"""
BANDS = (
    "pay:\n  scheme: step_table\n  bands:\n    - {from: 0, to: 90, coefficient: 0}\n    - {from: 95, coefficient: 1}"
)

# (id, edits of CARD, expected error): `kpiflow compile` runs the card rules of `kpiflow run` and more.
CARD_MISTAKES = [
    (
        "card-weights-not-one",
        [("weight: 0.2", "weight: 0.1")],
        "metrics/scorecards/card.yml:3: error: kpis: weights sum to 0.9 (0.5 + 0.3 + 0.1), not 1; adjust them so "
        "they add up to exactly 1",
    ),
    (
        "card-weight-below-minimum",
        [("weight: 0.5", "weight: 0.65"), ("weight: 0.2", "weight: 0.05")],
        "metrics/scorecards/card.yml:10: error: kpis[2].weight: rev_max weighs 0.05, below the minimum 0.10; raise "
        "it or drop the KPI",
    ),
    (
        "card-weight-not-a-number",
        [("weight: 0.5", "weight: half")],
        "metrics/scorecards/card.yml:5: error: kpis[0].weight: Input should be a valid decimal",
    ),
    (
        "card-unknown-kpi",
        [("kpi: rev_share", "kpi: rev_shares")],
        "metrics/scorecards/card.yml:6: error: kpis[1].kpi: unknown KPI 'rev_shares'; did you mean rev_share",
    ),
    (
        "card-negative-target",
        [("{constant: 0.2}", "{constant: -0.5}")],
        "metrics/scorecards/card.yml:8: error: kpis[1].target.constant: rev_share has constant -0.5: achievement "
        "divides by the target, so a negative level inverts it; give 0 or more (a rate as a fraction: 0.05 for 5%) "
        "or a band (band_low, band_high)",
    ),
    (
        "card-negative-minimum",
        [("{constant: 0.2}", "{constant: 0.2, minimum: -0.1, stretch: 0.3}")],
        "metrics/scorecards/card.yml:8: error: kpis[1].target.minimum: rev_share has minimum -0.1",
    ),
    (
        "card-target-outside-levels",
        [("{constant: 0.2}", "{constant: 0.2, minimum: 0.3, stretch: 0.4}")],
        "metrics/scorecards/card.yml:8: error: kpis[1].target.constant: rev_share's target 0.2 is not between its "
        "minimum 0.3 and stretch 0.4; move it between the two",
    ),
    (
        "card-baseline-uplift-below-minus-one",
        [("uplift: 0.1", "uplift: -1")],
        "metrics/scorecards/card.yml:11: error: kpis[2].target.baseline.uplift: rev_max has uplift -1",
    ),
    (
        "card-duplicate-kpi",
        [("kpi: rev_max", "kpi: revenue")],
        "metrics/scorecards/card.yml:9: error: kpis[2].kpi: revenue is already on the card (kpis[0]); list it once",
    ),
    (
        "card-kpi-not-published-at-entity",
        [("entity: store", "entity: employee")],
        "metrics/scorecards/card.yml:4: error: kpis[0].kpi: revenue is not published by employee (its "
        "natural_dimensions give: overall, store); add the dimension to its kpi.natural_dimensions or score it at "
        "another entity",
    ),
    (
        "card-grain-not-published",
        [("entity: store", "entity: store\ngrain: quarter")],
        "metrics/scorecards/card.yml:5: error: kpis[0].kpi: revenue has no quarter values (grains: month); add the "
        "grain",
    ),
    (
        "card-unknown-field",
        [("    weight: 0.3", "    wieght: 0.3")],
        "metrics/scorecards/card.yml:7: error: kpis[1].wieght: unknown field 'wieght' Did you mean 'weight'? "
        "See docs/scorecards.md for the fields of a card.",
    ),
    (
        "card-step-bands-gap",
        [("pay: {scheme: linear}", BANDS)],
        "metrics/scorecards/card.yml:17: error: pay.bands[1]: bands[0] [0%, 90%) and bands[1] [95%, inf) leave a "
        "gap [90%, 95%); make bands[0].to equal 95",
    ),
    (
        "card-multiplier-unknown-kpi",
        [
            (
                "pay: {scheme: linear}",
                "pay: {scheme: linear}\ndepartment_multiplier:\n  kpi: revnue\n"
                "  factors: {minimum: 1, optimal: 1.1, maximum: 1.2}",
            )
        ],
        "metrics/scorecards/card.yml:15: error: department_multiplier.kpi: unknown KPI 'revnue'; did you mean revenue",
    ),
    (
        "card-duplicate-key",
        [("    weight: 0.5\n", "    weight: 0.5\n    weight: 0.4\n")],
        "metrics/scorecards/card.yml:6: error: duplicate key 'weight' (first at line 5); keep one",
    ),
    (
        "card-yaml-syntax",
        [("kpis:\n", "kpis: [\n")],
        "metrics/scorecards/card.yml:",
    ),
    (
        "card-not-a-mapping",
        [(CARD, "- role: store_manager\n")],
        "metrics/scorecards/card.yml:1: error: a scorecard file must be a mapping (role, kpis, ...)",
    ),
]


def _settings(root: Path) -> Settings:
    return Settings(project_dir=root, warehouse_path=root / "w.duckdb", marts_path=root / "m.duckdb", target="dev")


def _generated(root: Path) -> dict[str, bytes]:
    folder = _settings(root).generated_dir
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _project(tmp_path: Path, text: str, cards: dict[str, str] | None = None) -> Path:
    """A project compiled from the valid MODEL (and CARD), then given the `text` and `cards` under test."""
    shutil.copytree(PROJECT / "models", tmp_path / "models")
    shutil.copy(PROJECT / "dbt_project.yml", tmp_path / "dbt_project.yml")
    (tmp_path / "metrics" / "scorecards").mkdir(parents=True)
    (tmp_path / "metrics" / "bad.yml").write_text(MODEL.lstrip("\n") + SCORECARD_KPIS, encoding="utf-8")
    (tmp_path / "metrics" / "scorecards" / "card.yml").write_text(CARD, encoding="utf-8")
    compile_project(_settings(tmp_path), "duckdb")
    (tmp_path / "metrics" / "bad.yml").write_text(text, encoding="utf-8")
    for name, card in (cards or {}).items():
        (tmp_path / "metrics" / "scorecards" / name).write_text(card, encoding="utf-8")
    return tmp_path


def _errors(root: Path) -> list[str]:
    """The compile's errors; it must have written nothing (models/generated byte-identical)."""
    before = _generated(root)
    with pytest.raises(SpecInvalid) as info:
        compile_project(_settings(root), "duckdb")
    assert info.value.exit_code == 2
    assert _generated(root) == before
    return [i.render(root) for i in info.value.issues if i.severity == "error"]


def test_valid_base_loads(tmp_path):
    assert "revenue" in load_graph(_project(tmp_path, textwrap.dedent(MODEL))).metrics


@pytest.mark.parametrize(("case", "extra", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_metric_mistake(tmp_path, case, extra, expected):
    assert expected in _errors(_project(tmp_path, MODEL.lstrip("\n") + extra))


@pytest.mark.parametrize(("case", "change", "expected"), MODEL_MISTAKES, ids=[c[0] for c in MODEL_MISTAKES])
def test_model_mistake(tmp_path, case, change, expected):
    old, new = change
    text = MODEL.lstrip("\n")
    assert old in text
    text = text.replace(old, new, 1)
    if case == "fan-out-join":
        text += (
            "  - {name: m2, type: simple, label: M, description: D, measure: revenue,"
            " filter: \"store__region = 'n'\"}\n"
        )
        errors = _errors(_project(tmp_path, text))
        assert any(
            "would join 'sales' to 'stores' on entity 'store', which is not primary or unique there: the "
            "join would fan out and double count" in e
            for e in errors
        ), errors
        return
    errors = _errors(_project(tmp_path, text))
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(("case", "edits", "expected"), CARD_MISTAKES, ids=[c[0] for c in CARD_MISTAKES])
def test_card_mistake(tmp_path, case, edits, expected):
    card = CARD
    for old, new in edits:
        assert old in card
        card = card.replace(old, new, 1)
    errors = _errors(_project(tmp_path, MODEL.lstrip("\n") + SCORECARD_KPIS, {"card.yml": card}))
    assert any(e.startswith(expected) for e in errors), errors


def test_valid_card_compiles(tmp_path):
    root = _project(tmp_path, MODEL.lstrip("\n") + SCORECARD_KPIS)
    assert "revenue" in compile_project(_settings(root), "duckdb").kpis


def test_corpus_is_large_enough():
    cases = {c[0] for c in CORPUS} | {c[0] for c in MODEL_MISTAKES} | {c[0] for c in CARD_MISTAKES}
    assert len(cases) >= 35


def test_error_message_lists_every_problem_and_writes_nothing(tmp_path):
    root = _project(tmp_path, MODEL.lstrip("\n") + CORPUS[0][1] + CORPUS[1][1].replace("m2", "m3"))
    with pytest.raises(SpecInvalid) as info:
        load_graph(root)
    text = str(info.value)
    assert text.startswith("2 problem(s) in the metric definitions; nothing was written.")
    assert "unknown measure 'revenu'" in text and "unknown metric 'revnue'" in text
