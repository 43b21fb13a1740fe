{#- Spark (dbt-spark) runs kpiflow's incremental strategy `kpiflow_window` (macros/kpiflow_window.sql) too. dbt-spark's
    incremental materialization accepts only its own strategies (append, merge, insert_overwrite, microbatch) and
    never calls dbt's `get_incremental_<strategy>_sql`, and a parquet table takes no DELETE (merge and delete need
    Delta, Iceberg or Hudi, whose jars would have to be downloaded). So these two dbt-spark macros are overridden
    here, by name (a root project's macro wins over an adapter's), and pass every other strategy on unchanged.

    On Spark `kpiflow_window` keeps the same meaning as elsewhere: the target's rows of the window, and the rows
    whose unique key the new batch holds, are replaced by the batch. As parquet cannot delete, the rows kept are
    written to a side table `<model>__kpiflow_kept` with the batch, which then overwrites the target (Spark cannot
    overwrite a table in the statement that reads it), and the side table is dropped. The model's config and
    columns are the same on every engine: no partitioning, so the columns keep their order. -#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'kpiflow_window' -%}
        {%- do return(raw_strategy) -%}
    {%- endif -%}
    {%- do return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) -%}
{%- endmacro %}


{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'kpiflow_window' -%}
        {{ kpiflow_spark_replace_window(source, target, unique_key) }}
    {%- else -%}
        {{ dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}


{#- Replace the window's rows of `target` by the batch in view `source`. Runs the side table and the overwrite
    itself and returns the statement that drops the side table (the materialization runs it as its main statement). -#}
{% macro kpiflow_spark_replace_window(source, target, unique_key) -%}
    {%- set keys = [] if unique_key is none else ([unique_key] if unique_key is string else unique_key) -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | list -%}
    {%- set kept = target.incorporate(path={'identifier': target.identifier ~ '__kpiflow_kept'}) -%}
    {%- call statement('kpiflow_window_clear') -%}
        drop table if exists {{ kept }}
    {%- endcall -%}
    {%- call statement('kpiflow_window_kept') -%}
        create table {{ kept }} using parquet as
        select {% for column in columns %}kept_rows.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
        from (
            select * from {{ target }} where not coalesce({{ kpiflow_window_rows() }}, false)
        ) as kept_rows
        {%- if keys %}
        left anti join {{ source }} as batch
            on {% for key in keys %}kept_rows.{{ key }} = batch.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
        {%- endif %}
        union all
        select {{ columns | join(', ') }} from {{ source }}
    {%- endcall -%}
    {%- call statement('kpiflow_window_overwrite') -%}
        insert overwrite table {{ target }} select {{ columns | join(', ') }} from {{ kept }}
    {%- endcall -%}
    drop table if exists {{ kept }}
{%- endmacro %}
