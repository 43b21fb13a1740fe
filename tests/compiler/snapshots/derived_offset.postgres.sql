-- test_snapshot[derived_offset-postgres]: ('revenue_yoy',) by ('metric_time__month',)
WITH metric_revenue AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE) AS metric_time__month,
    SUM(base.amount) AS value
  FROM intermediate.int_sales AS base
  WHERE
    NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('MONTH', base.sold_on) AS DATE)
), metric_revenue__offset_1_year AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', metric_time__month + INTERVAL '1 YEAR') AS DATE) AS metric_time__month,
    value
  FROM metric_revenue
), metric_revenue_yoy__keys AS (
  SELECT DISTINCT
    metric_time__month
  FROM metric_revenue
), metric_revenue_yoy AS (
  SELECT
    k.metric_time__month,
    CAST((
      in_0.value - in_1.value
    ) AS DOUBLE PRECISION) / NULLIF(in_1.value, 0) AS value
  FROM metric_revenue_yoy__keys AS k
  LEFT JOIN metric_revenue AS in_0
    ON k.metric_time__month IS NOT DISTINCT FROM in_0.metric_time__month
  LEFT JOIN metric_revenue__offset_1_year AS in_1
    ON k.metric_time__month IS NOT DISTINCT FROM in_1.metric_time__month
)
SELECT
  metric_time__month,
  value AS revenue_yoy
FROM metric_revenue_yoy
ORDER BY
  metric_time__month ASC
