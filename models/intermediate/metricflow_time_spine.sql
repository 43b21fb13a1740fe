-- One row per day: metrics that join to the time spine show periods with no rows (MetricFlow's convention).
with days as (
    {{ dbt.date_spine("day", "cast('2015-01-01' as date)", "cast('2031-01-01' as date)") }}
)

select cast(date_day as date) as date_day
from days
