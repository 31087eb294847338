-- One row per offer send up to as_of_date with what followed it: the recipient's converting orders
-- placed after sent_at and at most offer_measurement_window_days later (orders after as_of_date are
-- not seen), their net revenue, and whether the
-- window had closed by the end of as_of_date (only closed windows are measured). send_segment is
-- the recipient's SmartRFM recency × frequency band from purchases before the send day, so it is
-- not changed by the offer's own effect (the current segment is: a converted customer becomes
-- "recent"); 'no_prior_purchase' when there were none.
--
-- Reuses its previous build (previous_build; docs/decisions.md): a send whose window had closed by
-- both the previous build's as_of_date and this one's, whose row was not loaded again and whose
-- customer has no changed day since, measures the same; it keeps its previous row. Every other
-- send is measured again.

-- depends_on: {{ ref('base_shop__offer_sends_checked') }}
-- depends_on: {{ ref('base_shop__orders_checked') }}

{{ config(meta={'reuses_previous_build': true}) }}

{#- The settings of the send segment, named here so that the input-state hook sees them: a change
    of one drops the previous build (the bands are macros, smartrfm_bands.sql). -#}
{%- set band_settings = [var('smartrfm_recent_max_days'), var('smartrfm_medium_max_days'),
    var('smartrfm_once_max_orders'), var('smartrfm_sometimes_max_orders')] %}
{%- set observed_until = dbt.dateadd('day', 1, 'cast(' ~ as_of_date() ~ ' as ' ~ dbt.type_timestamp() ~ ')') %}
{%- set previous = previous_build(this) %}

with

all_sends as (

    select
        *,
        {{ dbt.dateadd('day', var('offer_measurement_window_days'), 'sent_at') }} as window_end_at

    from {{ ref('int_offer_sends_classified') }}

),

{% if previous is not none %}
{%- set previous_observed_until = dbt.dateadd('day', 1,
    'cast((select max(previous_build.as_of_date) from ' ~ previous ~ ' as previous_build) as '
    ~ dbt.type_timestamp() ~ ')') %}
-- the sends measured again: a window open at either date, a row loaded again, a customer with a
-- changed day (old and new values alike), or a send the previous build did not have
sends as (

    select all_sends.*

    from all_sends

    where
        all_sends.window_end_at >= {{ previous_observed_until }}
        or all_sends.window_end_at >= {{ observed_until }}
        or all_sends.customer_id in (
            select changed_days.customer_id from ({{ changed_customer_days(previous) }}) as changed_days
        )
        or all_sends.send_id in (
            select reloaded.send_id
            from {{ ref('base_shop__offer_sends_checked') }} as reloaded
            where reloaded.batch_loaded_at > {{ batch_watermark(previous) }}
        )
        or all_sends.send_id not in (select previous_build.send_id from {{ previous }} as previous_build)

),

-- the previous rows of every other send that is still valid
kept as (

    select
        previous_build.send_id,
        previous_build.customer_id,
        previous_build.offer_id,
        previous_build.channel,
        previous_build.sent_at,
        previous_build.is_holdout,
        previous_build.send_segment,
        previous_build.is_window_closed,
        previous_build.window_orders_count,
        previous_build.is_converted,
        previous_build.window_revenue

    from {{ previous }} as previous_build

    inner join all_sends
        on previous_build.send_id = all_sends.send_id

    where previous_build.send_id not in (select sends.send_id from sends)

),
{% else %}
sends as (

    select * from all_sends

),
{% endif %}

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

){% if previous is not none %},

measured as (

    select * from final
    union all
    select * from kept

){% endif %}

select
    *,
    {{ as_of_date() }} as as_of_date,
    {{ batch_loaded_at() }} as batch_loaded_at

from {{ 'measured' if previous is not none else 'final' }}
