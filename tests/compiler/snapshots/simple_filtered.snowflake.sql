-- test_snapshot[simple_filtered-snowflake]: ('north_revenue',) by ('metric_time__month',)
WITH metric_north_revenue AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE) AS metric_time__month,
    SUM(base.amount) AS value
  FROM intermediate.int_sales AS base
  LEFT JOIN intermediate.dim_stores AS store
    ON base.store_id = store.store_id
  WHERE
    store.region = 'north' AND NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE)
)
SELECT
  metric_time__month,
  value AS north_revenue
FROM metric_north_revenue
ORDER BY
  metric_time__month ASC
