{#- The first day an incremental run recomputes, as a DATE expression. `kpiflow run` writes it to
    kpiflow_state.build_window before dbt starts (the run date minus the late-arrival days, or earlier when nights
    were missed); a table rather than a var, because a var that changes nightly makes dbt re-parse everything.
    A full build, or a model built for the first time, gets an early date, so the same model text computes every
    period; so does an incremental build outside kpiflow when the table is missing (everything is recomputed).
    `--vars '{kpiflow_window_start: 2026-01-01}'` sets the day explicitly. -#}
{% macro kpiflow_window_start() -%}
    {%- set start = kpiflow_recorded_window_start() if is_incremental() else none -%}
    cast('{{ start or "1900-01-01" }}' as date)
{%- endmacro %}


{#- The recorded window's first day as 'YYYY-MM-DD': the `kpiflow_window_start` var, else the day in
    kpiflow_state.build_window; none while parsing, without either, or after a full build (1900-01-01). Read
    once per node and written as a literal, which DuckDB plans faster than a subquery in every scan. -#}
{% macro kpiflow_recorded_window_start() -%}
    {%- if var('kpiflow_window_start', none) is not none -%}
        {{ return(var('kpiflow_window_start') | string) }}
    {%- endif -%}
    {%- if not execute or adapter.get_relation(database=target.database, schema='kpiflow_state',
                                                identifier='build_window') is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = run_query('select max(window_start) from kpiflow_state.build_window').columns[0].values()[0] -%}
    {{ return(none if start is none or start.year <= 1900 else start | string) }}
{%- endmacro %}


{#- The first day people KPIs are recomputed from: the window start's year. Their suppression is decided per
    calendar year (docs/privacy.md), so a late row in December can hide a cell of January. -#}
{% macro kpiflow_privacy_window_start() -%}
    cast(date_trunc('year', {{ kpiflow_window_start() }}) as date)
{%- endmacro %}
