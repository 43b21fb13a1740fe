with orders as (
    select * from {{ ref('stg_orders') }}
),

lines as (
    select * from {{ ref('stg_order_lines') }}
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

customer_sequence as (
    select
        order_id,
        row_number() over (partition by customer_id order by ordered_at, order_id) as customer_order_number
    from orders
    where customer_id is not null
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
