-- test_snapshot[multi_metric-postgres]: ('revenue', 'order_count') by ('metric_time__year',)
WITH metric_revenue AS (
  SELECT
    CAST(DATE_TRUNC('YEAR', base.sold_on) AS DATE) AS metric_time__year,
    SUM(base.amount) AS value
  FROM intermediate.int_sales AS base
  WHERE
    NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('YEAR', base.sold_on) AS DATE)
), metric_order_count AS (
  SELECT
    CAST(DATE_TRUNC('YEAR', base.sold_on) AS DATE) AS metric_time__year,
    COUNT(DISTINCT base.order_id) AS value
  FROM intermediate.int_sales AS base
  WHERE
    NOT base.sold_on IS NULL
  GROUP BY
    CAST(DATE_TRUNC('YEAR', base.sold_on) AS DATE)
), query__keys AS (
  SELECT
    metric_time__year
  FROM metric_revenue
  UNION
  SELECT
    metric_time__year
  FROM metric_order_count
)
SELECT
  k.metric_time__year,
  m_0.value AS revenue,
  m_1.value AS order_count
FROM query__keys AS k
LEFT JOIN metric_revenue AS m_0
  ON k.metric_time__year IS NOT DISTINCT FROM m_0.metric_time__year
LEFT JOIN metric_order_count AS m_1
  ON k.metric_time__year IS NOT DISTINCT FROM m_1.metric_time__year
ORDER BY
  metric_time__year ASC
