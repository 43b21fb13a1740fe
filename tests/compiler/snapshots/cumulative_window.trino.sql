-- test_snapshot[cumulative_window-trino]: ('revenue_7d',) by ('metric_time__day',)
WITH metric_revenue_7d__daily AS (
  SELECT
    CAST(base.sold_on AS DATE) AS __day,
    SUM(base.amount) AS value
  FROM intermediate.int_sales AS base
  GROUP BY
    CAST(base.sold_on AS DATE)
), metric_revenue_7d__bounds AS (
  SELECT
    MIN(__day) AS __lo,
    MAX(__day) AS __hi
  FROM metric_revenue_7d__daily
), metric_revenue_7d__spine AS (
  SELECT
    CAST(s.date_day AS DATE) AS __day
  FROM intermediate.metricflow_time_spine AS s
  JOIN metric_revenue_7d__bounds AS b
    ON CAST(s.date_day AS DATE) BETWEEN b.__lo AND b.__hi
), metric_revenue_7d__grid AS (
  SELECT
    s.__day
  FROM metric_revenue_7d__spine AS s
), metric_revenue_7d__windowed AS (
  SELECT
    g.__day,
    SUM(d.value) OVER (ORDER BY g.__day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS value,
    COUNT(d.value) OVER (ORDER BY g.__day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS __rows
  FROM metric_revenue_7d__grid AS g
  LEFT JOIN metric_revenue_7d__daily AS d
    ON g.__day = d.__day
), metric_revenue_7d__running AS (
  SELECT
    __day,
    value
  FROM metric_revenue_7d__windowed
  WHERE
    __rows > 0
), metric_revenue_7d__edges AS (
  SELECT
    *,
    MAX(__day) OVER (PARTITION BY CAST(__day AS DATE)) AS __edge
  FROM metric_revenue_7d__running
), metric_revenue_7d AS (
  SELECT
    CAST(__day AS DATE) AS metric_time__day,
    value
  FROM metric_revenue_7d__edges
  WHERE
    __day = __edge
)
SELECT
  metric_time__day,
  value AS revenue_7d
FROM metric_revenue_7d
ORDER BY
  metric_time__day ASC
