-- test_snapshot[ratio-postgres]: ('upt',) by ('metric_time__month', 'store__region')
WITH metric_units AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE) AS metric_time__month,
    store.region AS store__region,
    SUM(base.quantity) AS value
  FROM intermediate.int_sales AS base
  LEFT JOIN intermediate.dim_stores AS store
    ON base.store_id = store.store_id
  WHERE
    NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE),
    store.region
), metric_order_count AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE) AS metric_time__month,
    store.region AS store__region,
    COUNT(DISTINCT base.order_id) AS value
  FROM intermediate.int_sales AS base
  LEFT JOIN intermediate.dim_stores AS store
    ON base.store_id = store.store_id
  WHERE
    NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE),
    store.region
), metric_upt__keys AS (
  SELECT
    metric_time__month,
    store__region
  FROM metric_units
  UNION
  SELECT
    metric_time__month,
    store__region
  FROM metric_order_count
), metric_upt AS (
  SELECT
    k.metric_time__month,
    k.store__region,
    CAST(in_0.value AS DOUBLE PRECISION) / NULLIF(CAST(in_1.value AS DOUBLE PRECISION), 0) AS value
  FROM metric_upt__keys AS k
  LEFT JOIN metric_units AS in_0
    ON k.metric_time__month IS NOT DISTINCT FROM in_0.metric_time__month
    AND k.store__region IS NOT DISTINCT FROM in_0.store__region
  LEFT JOIN metric_order_count AS in_1
    ON k.metric_time__month IS NOT DISTINCT FROM in_1.metric_time__month
    AND k.store__region IS NOT DISTINCT FROM in_1.store__region
)
SELECT
  metric_time__month,
  store__region,
  value AS upt
FROM metric_upt
ORDER BY
  metric_time__month ASC,
  store__region ASC
