-- test_snapshot[cumulative_grain_to_date-bigquery]: ('revenue_ytd',) by ('metric_time__month',)
WITH metric_revenue_ytd__daily AS (
  SELECT
    CAST(base.sold_on AS DATE) AS __day,
    SUM(base.amount) AS value
  FROM intermediate.int_sales AS base
  GROUP BY
    CAST(base.sold_on AS DATE)
), metric_revenue_ytd__bounds AS (
  SELECT
    MIN(__day) AS __lo,
    MAX(__day) AS __hi
  FROM metric_revenue_ytd__daily
), metric_revenue_ytd__spine AS (
  SELECT
    CAST(s.date_day AS DATE) AS __day
  FROM intermediate.metricflow_time_spine AS s
  JOIN metric_revenue_ytd__bounds AS b
    ON CAST(s.date_day AS DATE) BETWEEN b.__lo AND b.__hi
), metric_revenue_ytd__grid AS (
  SELECT
    s.__day
  FROM metric_revenue_ytd__spine AS s
), metric_revenue_ytd__windowed AS (
  SELECT
    g.__day,
    SUM(d.value) OVER (
      PARTITION BY CAST(DATE_TRUNC(g.__day, YEAR) AS DATE)
      ORDER BY g.__day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS value,
    COUNT(d.value) OVER (
      PARTITION BY CAST(DATE_TRUNC(g.__day, YEAR) AS DATE)
      ORDER BY g.__day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS __rows
  FROM metric_revenue_ytd__grid AS g
  LEFT JOIN metric_revenue_ytd__daily AS d
    ON g.__day = d.__day
), metric_revenue_ytd__running AS (
  SELECT
    __day,
    value
  FROM metric_revenue_ytd__windowed
  WHERE
    __rows > 0
), metric_revenue_ytd__edges AS (
  SELECT
    *,
    MAX(__day) OVER (PARTITION BY CAST(DATE_TRUNC(__day, MONTH) AS DATE)) AS __edge
  FROM metric_revenue_ytd__running
), metric_revenue_ytd AS (
  SELECT
    CAST(DATE_TRUNC(__day, MONTH) AS DATE) AS metric_time__month,
    value
  FROM metric_revenue_ytd__edges
  WHERE
    __day = __edge
)
SELECT
  metric_time__month,
  value AS revenue_ytd
FROM metric_revenue_ytd
ORDER BY
  metric_time__month ASC NULLS LAST
