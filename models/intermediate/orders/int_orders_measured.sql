-- One row per staged order (guests included, cancelled ones flagged) with its purchase, return,
-- discount and cost measures in the reporting currency. Cost comes from order lines × product unit
-- costs (in the reporting currency) and is null when either input is missing.

with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

line_costs as (

    select
        order_lines.order_id,
        sum(order_lines.quantity * products.unit_cost) as cost_amount,
        count(*) as lines_count,
        count(products.unit_cost) as costed_lines_count

    from order_lines

    left join products
        on order_lines.product_id = products.product_id

    group by order_lines.order_id

),

measured as (

    select
        orders.order_id,
        orders.customer_id,
        orders.is_guest,
        orders.ordered_at,
        orders.order_date,
        orders.status,
        orders.channel,
        orders.currency_code,
        orders.is_cancelled,
        not orders.is_cancelled and orders.is_purchase and orders.amount >= 0 as is_purchase_order,
        not orders.is_cancelled and orders.amount < 0 as is_return_document,
        case
            when not orders.is_cancelled and orders.is_purchase and orders.amount >= 0 then orders.amount
            else 0
        end as gross_amount,
        case
            when orders.is_cancelled then 0
            when orders.amount < 0 then -orders.amount
            when orders.is_fully_returned then orders.amount
            else 0
        end as return_amount,
        case
            when not orders.is_cancelled and orders.is_purchase and orders.amount >= 0
                then orders.discount_amount
            else 0
        end as discount_amount,
        orders.has_discount_data and orders.discount_amount > 0 as is_discounted,
        orders.has_discount_data,
        case
            when orders.is_cancelled or orders.is_fully_returned then 0
            -- known only when every line has a unit cost (unit costs are in the reporting currency)
            when line_costs.costed_lines_count = line_costs.lines_count then line_costs.cost_amount
        end as cost_amount

    from orders

    left join line_costs
        on orders.order_id = line_costs.order_id

),

final as (

    select
        *,
        gross_amount - return_amount as net_amount,
        gross_amount - return_amount - cost_amount as margin_amount

    from measured

)

select * from final
