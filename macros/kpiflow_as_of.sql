{#- As of the run date (DECISIONS rule 22): a run for day D publishes KPIs as of D. Rows dated after D do not count
    in it, so the staging models of dated raw tables keep only rows dated through D, and facts recorded after D
    (a termination, a hire, a first response) read as not yet known. Every downstream model, its time spine and its
    zero-filled periods included, then ends at D, and rerunning D on a warehouse holding later days gives the marts
    of a copy cut at D.

    The day comes from `--vars '{kpiflow_as_of: 2026-11-30}'`, else from env KPIFLOW_RUN_DATE, which `kpiflow run`
    sets for dbt (read only while executing, so a new day each night does not make dbt re-parse the project).
    Without either (a plain `dbt build`) nothing is cut. -#}
{% macro kpiflow_as_of() -%}
    {%- set day = var('kpiflow_as_of', none) -%}
    {%- if day is none and execute -%}
        {%- set day = env_var('KPIFLOW_RUN_DATE', '') or none -%}
    {%- endif -%}
    {%- if day is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set day = day | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', day) -%}
        {{ exceptions.raise_compiler_error("kpiflow_as_of / KPIFLOW_RUN_DATE must be a date YYYY-MM-DD, got '" ~ day ~ "'") }}
    {%- endif -%}
    {{ return(day) }}
{%- endmacro %}


{#- True for a row whose `column` is dated on or before the run date (and for an undated row: a missing date is
    the gate's business, not a later day's row). Always true without a run date. -#}
{% macro kpiflow_through_as_of(column) -%}
    {%- set day = kpiflow_as_of() -%}
    {%- if day is none -%}
        true
    {%- else -%}
        ({{ column }} is null or cast({{ column }} as date) <= cast('{{ day }}' as date))
    {%- endif -%}
{%- endmacro %}


{#- `value` as known on the run date: NULL when `dated_by` (default: `value` itself) lies after it. -#}
{% macro kpiflow_known_as_of(value, dated_by=none) -%}
    {%- if kpiflow_as_of() is none -%}
        {{ value }}
    {%- else -%}
        case when {{ kpiflow_through_as_of(dated_by or value) }} then {{ value }} end
    {%- endif -%}
{%- endmacro %}
