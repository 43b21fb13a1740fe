-- test_snapshot[semi_additive_average-duckdb]: ('avg_inventory',) by ('metric_time__quarter',)
WITH metric_avg_inventory__daily AS (
  SELECT
    CAST(base.snapshot_date AS DATE) AS __day,
    SUM(base.value) AS value
  FROM intermediate.int_inventory AS base
  GROUP BY
    CAST(base.snapshot_date AS DATE)
), metric_avg_inventory__days AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', __day) AS DATE) AS __period,
    COUNT(DISTINCT __day) AS __days
  FROM metric_avg_inventory__daily
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', __day) AS DATE)
), metric_avg_inventory AS (
  SELECT
    CAST(DATE_TRUNC('QUARTER', d.__day) AS DATE) AS metric_time__quarter,
    CAST(SUM(d.value) AS DOUBLE) / MAX(n.__days) AS value
  FROM metric_avg_inventory__daily AS d
  INNER JOIN metric_avg_inventory__days AS n
    ON CAST(DATE_TRUNC('QUARTER', d.__day) AS DATE) = n.__period
  GROUP BY
    CAST(DATE_TRUNC('QUARTER', d.__day) AS DATE)
)
SELECT
  metric_time__quarter,
  value AS avg_inventory
FROM metric_avg_inventory
ORDER BY
  metric_time__quarter ASC
