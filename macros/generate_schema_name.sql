{#- Use the folder's schema name as-is (staging, intermediate, kpi, marts, seeds), not <target>_<name>,
    so that kpiflow can address relations by a stable name on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
