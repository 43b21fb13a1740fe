{#- `unique`, for an incremental model that replaces the rows of its build window (macros/kpiflow_window.sql):
    in an incremental build only the keys of rows dated from the window start on are judged, against every row
    of the table. Rows before the window did not change since the build that tested them, so a new duplicate
    always involves a window row, and the table's full key set is not aggregated again every night. A full build,
    `--full-refresh`, or no recorded window judges every key. `window_column` is the date the model's
    delete+insert replaces by. -#}
{% test unique_in_build_window(model, column_name, window_column) %}
{%- set start = none if flags.FULL_REFRESH else kpiflow_recorded_window_start() %}
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

