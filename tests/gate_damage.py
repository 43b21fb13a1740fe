"""Damage the gate must catch on every engine: the same statements and the same failed checks for the PostgreSQL and
Spark gate tests (from the DuckDB gate tests, tests/quality/test_quality_gate.py)."""

FIRST_ORDER = "(select min(order_id) from raw.orders)"

DAMAGE = (
    f"update raw.orders set store_id = null where order_id = {FIRST_ORDER}",
    "insert into raw.orders select * from raw.orders where order_id = (select max(order_id) from raw.orders)",
    "update raw.orders set channel = 'phone' where order_id = (select min(order_id) + 1 from raw.orders)",
    "update raw.products set category = 'Garden' where product_id in "
    "(select product_id from raw.products order by product_id limit 2)",
    "update raw.order_lines set quantity = -2 where (order_id, line_no) in (select order_id, line_no "
    "from raw.order_lines where discount_amount = 0 and (order_id, line_no) not in "
    "(select order_id, line_no from raw.returns) order by order_id, line_no limit 3)",
)
DAMAGE_CAUGHT = {
    "orders.store_id.not_null",
    "orders.order_id.unique",
    "orders.channel.accepted_values",
    "products.category.vocabulary",
    "order_lines.quantity.positive",
    "order_lines.discount_within_line_amount",  # a discount of 0 above a negative line amount
}
