-- test_snapshot[retention-postgres]: ('retention',) by ('metric_time__month',)
WITH metric_retention__active AS (
  SELECT DISTINCT
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE) AS metric_time__month,
    base.customer_id AS __entity
  FROM intermediate.int_sales AS base
  WHERE
    NOT base.sold_on IS NULL AND NOT base.customer_id IS NULL
), metric_retention__previous AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', metric_time__month + INTERVAL '1 MONTH') AS DATE) AS metric_time__month,
    __entity
  FROM metric_retention__active
), metric_retention AS (
  SELECT
    p.metric_time__month,
    CAST(COUNT(c.__entity) AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0) AS value
  FROM metric_retention__previous AS p
  LEFT JOIN metric_retention__active AS c
    ON p.metric_time__month IS NOT DISTINCT FROM c.metric_time__month
    AND p.__entity = c.__entity
  WHERE
    p.metric_time__month <= (
      SELECT
        MAX(metric_time__month)
      FROM metric_retention__active
    )
  GROUP BY
    p.metric_time__month
)
SELECT
  metric_time__month,
  value AS retention
FROM metric_retention
ORDER BY
  metric_time__month ASC
