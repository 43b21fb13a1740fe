-- Sales and returns in one table, each on its own date (DECISIONS rule 1): net revenue and COGS are plain sums.
-- Incremental: a nightly run replaces the days from the window start on (late rows included).
{{ config(materialized='incremental', incremental_strategy='kpiflow_window',
          window_column='event_date', unique_key='event_date', on_schema_change='fail') }}

with orders as (
    select * from {{ ref('stg_orders') }}
),

lines as (
    select * from {{ ref('stg_order_lines') }}
),

returns as (
    select * from {{ ref('stg_returns') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

sales as (
    select
        {{ dbt.concat([dbt.cast("lines.order_id", dbt.type_string()), "'-'", dbt.cast("lines.line_no", dbt.type_string())]) }} as event_id,
        'sale' as event_type,
        orders.order_date as event_date,
        lines.order_id,
        orders.store_id,
        orders.channel,
        orders.customer_id,
        orders.employee_id,
        lines.product_id,
        lines.quantity,
        0 as returned_quantity,
        cast(lines.quantity * lines.unit_price as decimal(18, 2)) as gross_amount,
        cast(lines.discount_amount as decimal(18, 2)) as discount_amount,
        cast(0 as decimal(18, 2)) as refund_amount,
        cast(lines.quantity * lines.unit_price - lines.discount_amount as decimal(18, 2)) as net_amount,
        cast(lines.quantity * lines.unit_cost as decimal(18, 2)) as cost_amount
    from lines
    inner join orders on lines.order_id = orders.order_id
    {% if is_incremental() %}
    where orders.order_date >= {{ kpiflow_window_start() }}
    {% endif %}
),

refunds as (
    select
        {{ dbt.concat(["'R'", dbt.cast("returns.return_id", dbt.type_string())]) }} as event_id,
        'return' as event_type,
        returns.return_date as event_date,
        returns.order_id,
        orders.store_id,
        orders.channel,
        orders.customer_id,
        orders.employee_id,
        lines.product_id,
        0 as quantity,
        returns.quantity as returned_quantity,
        cast(0 as decimal(18, 2)) as gross_amount,
        cast(0 as decimal(18, 2)) as discount_amount,
        cast(returns.refund_amount as decimal(18, 2)) as refund_amount,
        cast(-returns.refund_amount as decimal(18, 2)) as net_amount,
        cast(-returns.quantity * lines.unit_cost as decimal(18, 2)) as cost_amount
    from returns
    inner join lines on returns.order_id = lines.order_id and returns.line_no = lines.line_no
    inner join orders on returns.order_id = orders.order_id
    {% if is_incremental() %}
    where returns.return_date >= {{ kpiflow_window_start() }}
    {% endif %}
),

events as (
    select * from sales
    union all
    select * from refunds
),

final as (
    select
        events.event_id,
        events.event_type,
        events.event_date,
        events.order_id,
        events.store_id,
        events.channel,
        events.customer_id,
        events.employee_id,
        events.product_id,
        products.category,
        events.quantity,
        events.returned_quantity,
        events.gross_amount,
        events.discount_amount,
        events.refund_amount,
        events.net_amount,
        events.cost_amount
    from events
    left join products on events.product_id = products.product_id
)

select * from final
