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


{#- Seeds on Spark: every cell is written as an escaped literal, an empty cell as NULL. dbt-spark's own
    spark__load_csv_rows binds the cells, and its `session` connection formats each bound value as `'<value>'`
    (dbt/adapters/spark/session.py, _fix_binding): an empty cell becomes the text 'None' in a string column (only
    date and number casts turn it back into NULL), a quote in a cell breaks the statement, and numbers go through a
    float. kpi_targets' empty entity_id then read as entity 'None' and matched no entity (marts.kpi_achievement
    lost six KPIs on Spark). Text is quoted as Spark reads it (a backslash escapes), and cast to the column's type,
    so a decimal arrives exact. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set types = [] -%}
  {%- for col_name in agate_table.column_names -%}
    {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
  {%- endfor -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for value in row -%}
          {%- if value is none -%}
            cast(null as {{ types[loop.index0] }})
          {%- else -%}
            cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
          {%- endif -%}
          {%- if not loop.last -%}, {% endif -%}
        {%- endfor -%})
        {%- if not loop.last -%},{%- endif %}
      {% endfor -%}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
  {%- endfor -%}
  {{ return(statements[0] if statements else '') }}
{% endmacro %}
