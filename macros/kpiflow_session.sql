{#- Settings of the session a model is built in, run as every model's pre-hook (dbt_project.yml); nothing on most
    engines. PostgreSQL: no JIT compilation. Its JIT compiles every expression of a query before the first row,
    and a kpiflow model is wide (kpi_values unions 65 tables under long CASE lists): at demo scale 0.2 `kpi_values`
    took 49.6 s with JIT and 1.0 s without (docs/benchmarks.md), every night, since the compile does not shrink with
    the window. A plain `set`, so it lasts for the rest of the connection. -#}
{% macro kpiflow_session_settings() -%}
    {{ return(adapter.dispatch('kpiflow_session_settings', 'kpiflow')()) }}
{%- endmacro %}

{% macro default__kpiflow_session_settings() -%}{%- endmacro %}
{% macro postgres__kpiflow_session_settings() -%}set jit = off{%- endmacro %}
