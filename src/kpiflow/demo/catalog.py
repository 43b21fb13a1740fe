"""Stores and products: the master data every event refers to.

Physical stores differ in size (selling area drives volume, staffing and stock levels); one online store
sells nationally and has no floor area. Product popularity is heavy-tailed and cheaper items sell more.
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

STORE_MODEL = Step(
    "t_store_model",
    """
with numbered as (
    select i::int as store_no, i = $n_physical + 1 as is_online
    from range(1, $n_physical + 2) t(i)
), shaped as (
    select
        store_no,
        is_online,
        'S' || lpad(store_no::varchar, 3, '0') as store_id,
        case when is_online then null
             else (round((4000 + rnd('store_area', store_no, 0, 0) * 16000) / 100) * 100)::int end as selling_area_sqft,
        ['North', 'South', 'East', 'West', 'Central'][1 + (store_no - 1) % 5] as region,
        ((store_no - 1) // 5) % 4 as city_no
    from numbered
), sized as (
    select
        *,
        case when is_online then null
             else (round(selling_area_sqft * (1.25 + rnd('store_total_area', store_no, 0, 0) * 0.35) / 100) * 100)::int
        end as total_area_sqft,
        case when is_online then 1.0 else selling_area_sqft / 10000.0 end as size_factor,
        case when is_online then 0
             else round(1000000 * pow(selling_area_sqft / 10000.0, 0.8) * (0.8 + 0.4 * rnd('store_w', store_no, 0, 0)))
        end::bigint as volume_weight
    from shaped
)
select
    *,
    1 + floor(rnd('store_delivery', store_no, 0, 0) * 5)::int as delivery_dow,
    ($meta_start - (200 + floor(rnd('store_opened', store_no, 0, 0) * 2800))::int)::date as opened_on,
    0.13 + 0.17 * rnd('store_conversion', store_no, 0, 0) as conversion_base,
    coalesce(sum(volume_weight) over (order by store_no rows between unbounded preceding and 1 preceding), 0)
        as weight_lo,
    sum(volume_weight) over () as weight_total,
    case when is_online
         then $scale * $customer_orders * ($online_home_share + (1 - $online_home_share) * 0.1)
         else $scale * volume_weight / sum(volume_weight) over ()
              * ($anonymous_orders + $customer_orders * (1 - $online_home_share) * 0.9)
    end as base_orders_per_day,
    case when is_online then 0.0
         else $scale * $anonymous_orders * volume_weight / sum(volume_weight) over () end as base_anonymous_per_day
from sized
""",
)

STORES = Step(
    "stores",
    """
select
    store_id,
    case when is_online then 'Online Store'
         else [['Northgate', 'Frostfield', 'Highmoor', 'Ravenford'],
               ['Southport', 'Sunvale', 'Maristow', 'Oakbay'],
               ['Eastwick', 'Dawnridge', 'Ambercliff', 'Harborview'],
               ['Westbrook', 'Pinecrest', 'Redmarsh', 'Stonehill'],
               ['Midtown', 'Centralia', 'Kingsbridge', 'Millford']][1 + (store_no - 1) % 5][1 + city_no]
              || case when store_no > 20 then ' ' || (store_no // 20 + 1)::varchar else '' end
              || case when selling_area_sqft >= 15000 then ' Megastore' else ' Store' end
    end as store_name,
    case when is_online then 'online' else 'physical' end as store_type,
    case when is_online then 'National' else region end as region,
    case when is_online then null
         else [['Northgate', 'Frostfield', 'Highmoor', 'Ravenford'],
               ['Southport', 'Sunvale', 'Maristow', 'Oakbay'],
               ['Eastwick', 'Dawnridge', 'Ambercliff', 'Harborview'],
               ['Westbrook', 'Pinecrest', 'Redmarsh', 'Stonehill'],
               ['Midtown', 'Centralia', 'Kingsbridge', 'Millford']][1 + (store_no - 1) % 5][1 + city_no]
    end as city,
    selling_area_sqft,
    total_area_sqft,
    opened_on
from t_store_model
""",
    emitted=True,
    order_by="store_id",
)

PRODUCT_MODEL = Step(
    "t_product_model",
    """
with categories(category_no, category, code, min_price, max_price, min_cost_ratio, max_cost_ratio,
                mix_weight, return_factor, bulk_buy) as (
    values
        (1, 'Apparel', 'APP', 12.0, 90.0, 0.42, 0.58, 1.3, 1.4, false),
        (2, 'Footwear', 'FTW', 35.0, 160.0, 0.48, 0.60, 0.8, 1.4, false),
        (3, 'Home', 'HOM', 8.0, 140.0, 0.48, 0.62, 1.0, 1.0, false),
        (4, 'Electronics', 'ELE', 25.0, 450.0, 0.62, 0.76, 0.7, 1.3, false),
        (5, 'Beauty', 'BEA', 5.0, 60.0, 0.38, 0.52, 0.9, 0.6, false),
        (6, 'Grocery', 'GRO', 2.0, 18.0, 0.60, 0.74, 1.2, 0.2, true),
        (7, 'Toys', 'TOY', 8.0, 90.0, 0.48, 0.60, 0.7, 0.8, false),
        (8, 'Sports', 'SPO', 12.0, 220.0, 0.50, 0.64, 0.7, 1.0, false)
), numbered as (
    select i::int as product_no, 1 + floor(rnd('product_category', i::int, 0, 0) * 8)::int as category_no
    from range(1, $n_products + 1) t(i)
), priced as (
    select
        n.product_no,
        c.*,
        'P' || lpad(n.product_no::varchar, 5, '0') as product_id,
        (floor(exp(ln(c.min_price) + rnd('product_price', n.product_no, 0, 0) * (ln(c.max_price) - ln(c.min_price))))
            + 0.99)::decimal(12, 2) as list_price
    from numbered n join categories c using (category_no)
), weighted as (
    select
        *,
        round(list_price * (min_cost_ratio + rnd('product_cost', product_no, 0, 0) * (max_cost_ratio - min_cost_ratio)),
              2)::decimal(12, 2) as unit_cost,
        round(1000000 * exp(1.1 * rnorm('product_popularity', product_no, 0, 0)) * mix_weight
              * pow(list_price::double / 30.0, -0.5))::bigint as demand_weight,
        case when bulk_buy then 2.5 else 1.35 end as mean_quantity
    from priced
)
select
    *,
    coalesce(sum(demand_weight) over (order by product_no rows between unbounded preceding and 1 preceding), 0)
        as weight_lo,
    sum(demand_weight) over () as weight_total,
    demand_weight / sum(demand_weight) over () as demand_share
from weighted
""",
)

PRODUCTS = Step(
    "products",
    """
select
    product_id,
    code || '-' || lpad(product_no::varchar, 5, '0') as sku,
    ['Classic', 'Essential', 'Premium', 'Everyday', 'Urban', 'Eco', 'Pro', 'Compact', 'Deluxe', 'Smart']
        [1 + floor(rnd('product_adjective', product_no, 0, 0) * 10)::int]
    || ' ' ||
    [['Tee', 'Hoodie', 'Jacket', 'Jeans', 'Dress'],
     ['Sneaker', 'Boot', 'Sandal', 'Loafer', 'Runner'],
     ['Mug', 'Lamp', 'Towel Set', 'Cushion', 'Pan'],
     ['Headphones', 'Charger', 'Speaker', 'Smartwatch', 'Keyboard'],
     ['Moisturiser', 'Shampoo', 'Lip Balm', 'Serum', 'Perfume'],
     ['Coffee', 'Tea', 'Granola', 'Olive Oil', 'Chocolate'],
     ['Puzzle', 'Building Set', 'Plush Bear', 'Board Game', 'RC Car'],
     ['Yoga Mat', 'Dumbbell', 'Water Bottle', 'Tennis Racket', 'Backpack']]
        [category_no][1 + floor(rnd('product_noun', product_no, 0, 0) * 5)::int] as product_name,
    category,
    unit_cost,
    list_price
from t_product_model
""",
    emitted=True,
    order_by="product_id",
)

STEPS = (STORE_MODEL, STORES, PRODUCT_MODEL, PRODUCTS)
