{#- Types and functions whose spelling differs between engines, for the hand-written models (models/ writes no
    engine-specific type or function itself; tests/postgres/test_portable_models.py checks). dbt's own
    `type_float()` is no help for a double: it is `float`, which DuckDB and Spark read as a 4-byte real. -#}

{#- An 8-byte floating-point type (IEEE double). -#}
{% macro kpiflow_type_double() -%}
    {{ return(adapter.dispatch('kpiflow_type_double', 'kpiflow')()) }}
{%- endmacro %}

{% macro default__kpiflow_type_double() -%}double precision{%- endmacro %}
{% macro spark__kpiflow_type_double() -%}double{%- endmacro %}
{% macro trino__kpiflow_type_double() -%}double{%- endmacro %}
{% macro bigquery__kpiflow_type_double() -%}float64{%- endmacro %}

{#- Whether a date falls on a Saturday or a Sunday. Engines number weekdays differently: DuckDB, PostgreSQL and
    Snowflake's `dow` give Sunday 0 and Saturday 6, Spark's dayofweek and BigQuery's give Sunday 1 and Saturday 7,
    Trino's day_of_week is ISO (Saturday 6, Sunday 7). -#}
{% macro kpiflow_is_weekend(date_expression) -%}
    {{ return(adapter.dispatch('kpiflow_is_weekend', 'kpiflow')(date_expression)) }}
{%- endmacro %}

{% macro default__kpiflow_is_weekend(date_expression) -%}
    extract(dow from {{ date_expression }}) in (0, 6)
{%- endmacro %}
{% macro spark__kpiflow_is_weekend(date_expression) -%}
    dayofweek({{ date_expression }}) in (1, 7)
{%- endmacro %}
{% macro bigquery__kpiflow_is_weekend(date_expression) -%}
    extract(dayofweek from {{ date_expression }}) in (1, 7)
{%- endmacro %}
{% macro trino__kpiflow_is_weekend(date_expression) -%}
    day_of_week({{ date_expression }}) in (6, 7)
{%- endmacro %}
