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


{#- Incremental strategy `kpiflow_window` (dbt's extension point `get_incremental_<strategy>_sql`): delete every
    row of the window's range from the target, whether or not the new batch has rows for it, then delete+insert the
    batch as dbt does. Plain delete+insert replaces only the keys the batch holds, so a day that emptied upstream
    (a voided store day, orders re-stamped onto the next day) would keep its old rows. Config of the model:
      window_column        the date column that places a row in the window (order_date, __day, period_start);
      window_grain         a fixed grain of that column ('month' for a monthly mart): rows from the period that
                           contains the window start on are replaced;
      window_grain_column  or a column naming each row's grain (day, week, month, quarter, year; KPI models);
      window_rebuilt       {column: [values]} whose rows are replaced whatever their date (KPIs rebuilt in full).
    Only standard SQL and dbt's cross-database date_trunc: a Postgres or Spark target needs no change here. -#}
{% macro get_incremental_kpiflow_window_sql(arg_dict) -%}
    delete from {{ arg_dict['target_relation'] }} where {{ kpiflow_window_rows() }};
    {{ get_incremental_delete_insert_sql(arg_dict) }}
{%- endmacro %}


{#- The condition that selects the rows of the model's window (see get_incremental_kpiflow_window_sql). -#}
{% macro kpiflow_window_rows() -%}
    {%- set column = config.get('window_column') -%}
    {%- if column is none -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'kpiflow_window' needs config window_column") }}
    {%- endif -%}
    {%- set start = kpiflow_window_start() -%}
    {%- set grain = config.get('window_grain') -%}
    {%- set grain_column = config.get('window_grain_column') -%}
    {%- set rebuilt = config.get('window_rebuilt') or {} -%}
    (
    {%- if grain_column is not none %}
        {{ column }} >= case {{ grain_column }}
        {%- for each in ['day', 'week', 'month', 'quarter', 'year'] %}
            when '{{ each }}' then {{ kpiflow_period_floor(each, start) }}
        {%- endfor %}
        end
    {%- else %}
        {{ column }} >= {{ kpiflow_period_floor(grain or 'day', start) }}
    {%- endif %}
    {%- for rebuilt_column, values in rebuilt.items() %}
        or {{ rebuilt_column }} in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endfor %}
    )
{%- endmacro %}


{#- First day of the `grain` period that contains the DATE expression `day`. -#}
{% macro kpiflow_period_floor(grain, day) -%}
    {%- if grain == 'day' -%}
        {{ day }}
    {%- else -%}
        cast({{ dbt.date_trunc(grain, day) }} as date)
    {%- endif -%}
{%- endmacro %}
