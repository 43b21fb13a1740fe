{#- The first day an incremental run recomputes, as a DATE expression. `kpiflow run` writes it to
    kpiflow_state.build_window before dbt starts (the run date minus the late-arrival days, or earlier when nights
    were missed); a table rather than a var, because a var that changes nightly makes dbt re-parse everything.
    A full build, or a model built for the first time, gets an early date, so the same model text computes every
    period; so does an incremental build outside kpiflow when the table is missing (everything is recomputed).
    `--vars '{kpiflow_window_start: 2026-01-01}'` sets the day explicitly. -#}
{% macro kpiflow_window_start() -%}
    {%- if not is_incremental() -%}
        cast('1900-01-01' as date)
    {%- elif var('kpiflow_window_start', none) is not none -%}
        cast('{{ var("kpiflow_window_start") }}' as date)
    {%- elif execute and adapter.get_relation(database=target.database, schema='kpiflow_state',
                                               identifier='build_window') is not none -%}
        (select max(window_start) from kpiflow_state.build_window)
    {%- else -%}
        cast('1900-01-01' as date)
    {%- endif -%}
{%- endmacro %}
