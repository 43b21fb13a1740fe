-- test_snapshot[simple-snowflake]: ('revenue',) by ('metric_time__month', 'store__region')
WITH metric_revenue AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE) AS metric_time__month,
    store.region AS store__region,
    SUM(base.amount) AS value
  FROM intermediate.int_sales AS base
  LEFT JOIN intermediate.dim_stores AS store
    ON base.store_id = store.store_id
  WHERE
    NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE),
    store.region
)
SELECT
  metric_time__month,
  store__region,
  value AS revenue
FROM metric_revenue
ORDER BY
  metric_time__month ASC,
  store__region ASC
