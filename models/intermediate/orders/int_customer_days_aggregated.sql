-- The heavy order-level work, done once: one row per customer and day with what they bought and
-- returned. Guest orders and cancelled orders are left out. Customer-level marts recompute from here.

with

orders as (

    select * from {{ ref('int_orders_measured') }}

),

customer_orders as (

    select * from orders
    where not is_guest and not is_cancelled

),

customer_days as (

    select
        customer_id,
        order_date,
        sum(case when is_purchase_order then 1 else 0 end) as purchase_orders_count,
        sum(case when is_return_document then 1 else 0 end) as return_documents_count,
        min(case when is_purchase_order then ordered_at end) as first_purchase_at,
        max(case when is_purchase_order then ordered_at end) as last_purchase_at,
        sum(gross_amount) as gross_amount,
        sum(return_amount) as return_amount,
        sum(net_amount) as net_amount,
        sum(discount_amount) as discount_amount,
        sum(case when is_purchase_order and is_discounted then 1 else 0 end) as discounted_orders_count,
        sum(case when is_purchase_order and has_discount_data then 1 else 0 end) as discount_known_orders_count,
        sum(cost_amount) as cost_amount,
        sum(margin_amount) as margin_amount,
        count(cost_amount) as costed_orders_count,
        count(*) as orders_count

    from customer_orders

    group by customer_id, order_date

)

select * from customer_days
