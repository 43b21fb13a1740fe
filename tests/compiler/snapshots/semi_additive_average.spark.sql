-- test_snapshot[semi_additive_average-spark]: ('avg_inventory',) by ('metric_time__quarter',)
WITH metric_avg_inventory__daily AS (
  SELECT
    CAST(base.snapshot_date AS DATE) AS __day,
    SUM(base.value) AS value
  FROM intermediate.int_inventory AS base
  GROUP BY
    CAST(base.snapshot_date AS DATE)
), metric_avg_inventory__days AS (
  SELECT
    CAST(TRUNC(__day, 'QUARTER') AS DATE) AS __period,
    COUNT(DISTINCT __day) AS __days
  FROM metric_avg_inventory__daily
  GROUP BY
    CAST(TRUNC(__day, 'QUARTER') AS DATE)
), metric_avg_inventory AS (
  SELECT
    CAST(TRUNC(d.__day, 'QUARTER') AS DATE) AS metric_time__quarter,
    CAST(SUM(d.value) AS DOUBLE) / MAX(n.__days) AS value
  FROM metric_avg_inventory__daily AS d
  INNER JOIN metric_avg_inventory__days AS n
    ON CAST(TRUNC(d.__day, 'QUARTER') AS DATE) = n.__period
  GROUP BY
    CAST(TRUNC(d.__day, 'QUARTER') AS DATE)
)
SELECT
  metric_time__quarter,
  value AS avg_inventory
FROM metric_avg_inventory
ORDER BY
  metric_time__quarter ASC NULLS LAST
