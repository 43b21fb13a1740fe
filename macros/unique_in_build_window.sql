{#- `unique`, for an incremental model that replaces the rows of its build window (macros/kpiflow_window.sql):
    in an incremental build only the keys of rows dated from the window start on are judged, against every row
    of the table. Rows before the window did not change since the build that tested them, so a new duplicate
    always involves a window row, and the table's full key set is not aggregated again every night. A full build,
    `--full-refresh`, or no recorded window judges every key. `window_column` is the date the model's
    delete+insert replaces by. -#}
{% test unique_in_build_window(model, column_name, window_column) %}
{%- set start = kpiflow_tested_window_start() %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
{%- if start is not none %}
  and {{ column_name }} in (
      select {{ column_name }} from {{ model }} where {{ window_column }} >= cast('{{ start }}' as date)
  )
{%- endif %}
group by {{ column_name }}
having count(*) > 1
{% endtest %}


{#- The first day of the last build's window as 'YYYY-MM-DD', or none when tests must judge every row: while
    parsing, under --full-refresh, without a recorded window, or after a full build (window 1900-01-01). -#}
{% macro kpiflow_tested_window_start() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if var('kpiflow_window_start', none) is not none -%}
        {{ return(var('kpiflow_window_start') | string) }}
    {%- endif -%}
    {%- if adapter.get_relation(database=target.database, schema='kpiflow_state', identifier='build_window') is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = run_query('select max(window_start) from kpiflow_state.build_window').columns[0].values()[0] -%}
    {%- if start is none or start.year <= 1900 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(start | string) }}
{%- endmacro %}
