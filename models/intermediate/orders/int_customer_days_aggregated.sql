-- The heavy order-level work, done once: one row per customer and day with what they bought and
-- returned. Guest orders and cancelled orders are left out. Customer-level marts recompute from here.
--
-- Incremental: a run recomputes the (customer, day) pairs touched by rows (re)classified since the
-- last run, old and new values alike (a correction can move an order to another day or customer),
-- and by orders measured again (new lines change an order's cost). A pair left without orders
-- comes out with orders_count = 0, so that delete+insert removes its old version; the post-hook
-- then drops those rows.

-- depends_on: {{ ref('base_shop__orders_checked') }}

{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['customer_id', 'order_date'],
    on_schema_change='fail',
    post_hook="{{ delete_placeholder_rows(this, 'orders_count = 0') }}"
) }}

with

{% if is_incremental() %}
changed_days as (

    {{ changed_customer_days(this) }}

),

customer_orders as (

    select orders.*
    from {{ ref('int_orders_measured') }} as orders
    inner join changed_days
        on
            orders.customer_id = changed_days.customer_id
            and orders.order_date = changed_days.order_date
    where not orders.is_cancelled

),
{% else %}
customer_orders as (

    select * from {{ ref('int_orders_measured') }}
    where not is_guest and not is_cancelled

),
{% endif %}

{% set days = ['customer_id', 'order_date'] -%}
aggregated as (

    select
        customer_id,
        order_date,
        count(case when is_purchase_order then 1 end) as purchase_orders_count,
        count(case when is_return_document then 1 end) as return_documents_count,
        min(case when is_purchase_order then ordered_at end) as first_purchase_at,
        max(case when is_purchase_order then ordered_at end) as last_purchase_at,
        {{ sum_money('gross_amount', days) }} as gross_amount,
        {{ sum_money('return_amount', days) }} as return_amount,
        {{ sum_money('net_amount', days) }} as net_amount,
        {{ sum_money('discount_amount', days) }} as discount_amount,
        count(case when is_purchase_order and is_discounted then 1 end) as discounted_orders_count,
        count(case when is_purchase_order and has_discount_data then 1 end)
            as discount_known_orders_count,
        {{ sum_money('cost_amount', days) }} as cost_amount,
        {{ sum_money('margin_amount', days) }} as margin_amount,
        count(cost_amount) as costed_orders_count,
        count(*) as orders_count

    from customer_orders

    group by customer_id, order_date

),

{% set pairs = 'changed_days' if is_incremental() else 'aggregated' -%}
final as (

    -- noqa: disable=RF03
    select
        {{ pairs }}.customer_id,
        {{ pairs }}.order_date,
        coalesce(aggregated.purchase_orders_count, 0) as purchase_orders_count,
        coalesce(aggregated.return_documents_count, 0) as return_documents_count,
        aggregated.first_purchase_at,
        aggregated.last_purchase_at,
        aggregated.gross_amount,
        aggregated.return_amount,
        aggregated.net_amount,
        aggregated.discount_amount,
        aggregated.discounted_orders_count,
        aggregated.discount_known_orders_count,
        aggregated.cost_amount,
        aggregated.margin_amount,
        aggregated.costed_orders_count,
        coalesce(aggregated.orders_count, 0) as orders_count,
        {{ batch_loaded_at() }} as batch_loaded_at

    -- on an incremental run a changed pair without orders keeps a row (orders_count = 0), so that
    -- delete+insert removes its old version
    from {{ pairs }}

    {% if is_incremental() -%}
    left join aggregated
        on changed_days.customer_id = aggregated.customer_id
        and changed_days.order_date = aggregated.order_date
    {%- endif %}
    -- noqa: enable=RF03

)

select * from final
