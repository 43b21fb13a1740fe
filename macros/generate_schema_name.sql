{#- Use the folder's schema name as-is (staging, intermediate, kpi, marts, seeds), not <target>_<name>,
    so that kpiflow can address relations by a stable name on every target.
    On a server warehouse (postgres, spark) the published schemas are built under a private name, `marts__build` and
    `payroll__build`: `kpiflow run` audits them and publish renames them to `marts` / `payroll` in one transaction
    (docs/postgres.md); on Spark publish copies them into a new version that the `marts` / `payroll` views show
    (docs/spark.md). A DuckDB build is published by copying the file, so it keeps the plain names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.type in ['postgres', 'spark'] and custom_schema_name | trim in ['marts', 'payroll'] -%}
        {{ custom_schema_name | trim }}__build
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
