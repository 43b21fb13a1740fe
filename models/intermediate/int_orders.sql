-- Incremental: a nightly run replaces the order days from the window start on; a customer's order number
-- continues from the orders already built before the window.
{{ config(materialized='incremental', incremental_strategy='kpiflow_window',
          window_column='order_date', unique_key='order_date', on_schema_change='fail') }}

with orders as (
    select * from {{ ref('stg_orders') }}
    {% if is_incremental() %}
    where order_date >= {{ kpiflow_window_start() }}
    {% endif %}
),

lines as (
    select * from {{ ref('stg_order_lines') }}
    {% if is_incremental() %}
    where order_id in (select order_id from orders)
    {% endif %}
),

stores as (
    select * from {{ ref('dim_stores') }}
),

order_totals as (
    select
        order_id,
        sum(quantity) as units,
        sum(quantity * unit_price - discount_amount) as net_amount
    from lines
    group by order_id
),

{% if is_incremental() %}
earlier_orders as (
    select customer_id, count(*) as orders_before
    from {{ this }}
    where order_date < {{ kpiflow_window_start() }} and customer_id is not null
    group by customer_id
),
{% endif %}

customer_sequence as (
    select
        orders.order_id,
        row_number() over (partition by orders.customer_id order by orders.ordered_at, orders.order_id)
        {% if is_incremental() %} + coalesce(earlier_orders.orders_before, 0) {% endif %} as customer_order_number
    from orders
    {% if is_incremental() %}
    left join earlier_orders on orders.customer_id = earlier_orders.customer_id
    {% endif %}
    where orders.customer_id is not null
),

final as (
    select
        orders.order_id,
        orders.order_date,
        orders.ordered_at,
        orders.store_id,
        orders.channel,
        orders.customer_id,
        orders.employee_id,
        coalesce(customer_sequence.customer_order_number = 1, false) as is_first_order,
        coalesce(customer_sequence.customer_order_number > 1, false) as is_repeat_order,
        coalesce(stores.is_physical, false) as is_physical_store,
        coalesce(order_totals.units, 0) as units,
        coalesce(order_totals.net_amount, 0) as net_amount
    from orders
    left join order_totals on orders.order_id = order_totals.order_id
    left join customer_sequence on orders.order_id = customer_sequence.order_id
    left join stores on orders.store_id = stores.store_id
)

select * from final
