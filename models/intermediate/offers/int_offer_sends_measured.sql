-- One row per offer send up to as_of_date with what followed it: the recipient's converting orders
-- placed after sent_at and at most offer_measurement_window_days later (orders after as_of_date are
-- not seen), their net revenue, and whether the
-- window had closed by the end of as_of_date (only closed windows are measured). send_segment is
-- the recipient's SmartRFM recency × frequency band from purchases before the send day, so it is
-- not changed by the offer's own effect (the current segment is: a converted customer becomes
-- "recent"); 'no_prior_purchase' when there were none.

{%- set observed_until = dbt.dateadd('day', 1, 'cast(' ~ as_of_date() ~ ' as ' ~ dbt.type_timestamp() ~ ')') %}

with

sends as (

    select
        *,
        {{ dbt.dateadd('day', var('offer_measurement_window_days'), 'sent_at') }} as window_end_at

    from {{ ref('int_offer_sends_classified') }}

),

orders as (

    select * from {{ ref('int_orders_measured') }}
    -- a conversion is a purchase order (int_orders_measured.is_purchase_order, the one definition
    -- of a purchase) that kept revenue: not fully returned, not a zero amount
    where
        is_purchase_order
        and net_amount > 0
        and not is_guest
        and order_date <= {{ as_of_date() }}

),

customer_days as (

    select * from {{ ref('int_customer_days_aggregated') }}
    where purchase_orders_count > 0

),

window_orders as (

    select
        sends.send_id,
        count(orders.order_id) as window_orders_count,
        cast(coalesce({{ sum_money('orders.net_amount', {'send_id': 'sends.send_id'}) }}, 0) as {{ money_type() }})
            as window_revenue

    from sends

    left join orders
        on sends.customer_id = orders.customer_id
        and sends.sent_at < orders.ordered_at
        and sends.window_end_at >= orders.ordered_at

    group by sends.send_id

),

purchases_before as (

    select
        sends.send_id,
        sends.sent_date,
        max(customer_days.order_date) as last_purchase_date,
        {{ sum_count('customer_days.purchase_orders_count') }} as purchase_orders_count

    from sends

    inner join customer_days
        on sends.customer_id = customer_days.customer_id
        and sends.sent_date > customer_days.order_date

    group by sends.send_id, sends.sent_date

),

history as (

    select
        send_id,
        purchase_orders_count,
        {{ dbt.datediff('last_purchase_date', 'sent_date', 'day') }}
            as days_since_purchase

    from purchases_before

),

banded as (

    select
        sends.send_id,
        {{ smartrfm_recency_band('history.days_since_purchase') }} as recency_band,
        {{ smartrfm_frequency_band('history.purchase_orders_count') }} as frequency_band

    from sends

    inner join history
        on sends.send_id = history.send_id

),

final as (

    select
        sends.send_id,
        sends.customer_id,
        sends.offer_id,
        sends.channel,
        sends.sent_at,
        sends.is_holdout,
        coalesce(
            {{ dbt.concat(['banded.recency_band', "'_'", 'banded.frequency_band']) }}, 'no_prior_purchase'
        ) as send_segment,
        sends.window_end_at < {{ observed_until }} as is_window_closed,
        window_orders.window_orders_count,
        window_orders.window_orders_count > 0 as is_converted,
        window_orders.window_revenue

    from sends

    inner join window_orders
        on sends.send_id = window_orders.send_id

    left join banded
        on sends.send_id = banded.send_id

)

select * from final
