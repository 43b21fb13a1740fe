-- test_snapshot[semi_additive_last-trino]: ('inventory_value',) by ('metric_time__month', 'store')
WITH metric_inventory_value__daily AS (
  SELECT
    base.store_id AS store,
    CAST(base.snapshot_date AS DATE) AS __day,
    SUM(base.value) AS value
  FROM intermediate.int_inventory AS base
  GROUP BY
    base.store_id,
    CAST(base.snapshot_date AS DATE)
), metric_inventory_value__edges AS (
  SELECT
    *,
    MAX(__day) OVER (PARTITION BY CAST(DATE_TRUNC('MONTH', __day) AS DATE)) AS __edge
  FROM metric_inventory_value__daily
), metric_inventory_value AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', __day) AS DATE) AS metric_time__month,
    store,
    value
  FROM metric_inventory_value__edges
  WHERE
    __day = __edge
)
SELECT
  metric_time__month,
  store,
  value AS inventory_value
FROM metric_inventory_value
ORDER BY
  metric_time__month ASC,
  store ASC
