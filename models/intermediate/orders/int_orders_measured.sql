-- One row per staged order (guests included, cancelled ones flagged) with its purchase, return,
-- discount and cost measures in the reporting currency. Cost comes from order lines × product unit
-- costs (in the reporting currency) and is null when either input is missing.
--
-- Incremental: a run recomputes the orders whose rows were (re)classified since the last run, and
-- the orders that got new lines (batch_loaded_at of base_shop__orders_checked or
-- base_shop__order_lines_checked after this table's latest). An order id without a
-- staged row (quarantined, superseded or conflicting) comes out as a row without ordered_at, so
-- that delete+insert removes any old version; the post-hook then drops those placeholder rows.

-- depends_on: {{ ref('base_shop__orders_checked') }}
-- depends_on: {{ ref('base_shop__order_lines_checked') }}

{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    post_hook="{{ delete_placeholder_rows(this, 'ordered_at is null') }}"
) }}

with

{% if is_incremental() %}
changed_orders as (

    -- the order ids (re)classified since the last run, and those that got new lines
    select order_id
    from {{ ref('base_shop__orders_checked') }}
    where
        order_id is not null
        and batch_loaded_at > {{ batch_watermark(this) }}

    union

    select order_id
    from {{ ref('base_shop__order_lines_checked') }}
    where
        order_id is not null
        and batch_loaded_at > {{ batch_watermark(this) }}

),
{% endif %}

orders as (

    select * from {{ ref('stg_shop__orders') }}
    {% if is_incremental() %}
        where order_id in (select changed_orders.order_id from changed_orders)
    {% endif %}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}
    {% if is_incremental() %}
        where order_id in (select changed_orders.order_id from changed_orders)
    {% endif %}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

line_costs as (

    select
        order_lines.order_id,
        {{ sum_money('order_lines.quantity * products.unit_cost', {'order_id': 'order_lines.order_id'}) }}
            as cost_amount,
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

{% set pairs = 'changed_orders' if is_incremental() else 'measured' -%}
final as (

    -- noqa: disable=RF03
    select
        {{ pairs }}.order_id,
        measured.customer_id,
        measured.is_guest,
        measured.ordered_at,
        measured.order_date,
        measured.status,
        measured.channel,
        measured.currency_code,
        measured.is_cancelled,
        measured.is_purchase_order,
        measured.is_return_document,
        -- money in money_type() exactly, whatever type the engine gives a case of 0 and an amount
        cast(measured.gross_amount as {{ money_type() }}) as gross_amount,
        cast(measured.return_amount as {{ money_type() }}) as return_amount,
        cast(measured.discount_amount as {{ money_type() }}) as discount_amount,
        measured.is_discounted,
        measured.has_discount_data,
        cast(measured.cost_amount as {{ money_type() }}) as cost_amount,
        cast(measured.gross_amount - measured.return_amount as {{ money_type() }}) as net_amount,
        cast(measured.gross_amount - measured.return_amount - measured.cost_amount as {{ money_type() }})
            as margin_amount,
        {{ batch_loaded_at() }} as batch_loaded_at

    -- on an incremental run an order id without a staged row keeps a row (ordered_at null), so
    -- that delete+insert removes its old version
    from {{ pairs }}

    {% if is_incremental() -%}
    left join measured
        on changed_orders.order_id = measured.order_id
    {%- endif %}
    -- noqa: enable=RF03

)

select * from final
