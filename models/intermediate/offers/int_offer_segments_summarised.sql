-- One row per offer segment (the SmartRFM targeting cell; 'unassigned' included) with what the
-- segment-level guardrails need:
--   revenue_base_amount          net revenue of the segment's customers over the
--                                offer_revenue_base_days days ending at as_of_date
--   buy_x_get_y_budget_amount    offer_buy_x_get_y_max_revenue_share of that base: the most that
--                                buy-X-get-Y offers may cost in the segment
--                                (best-customers-without-discounts: under 3% of revenue)
--   early_access_events_count    distinct days an early-access offer was sent to the segment's
--                                customers in the cap window (at most 1-2 such events a month per
--                                group). Segments are today's: a customer who changed segment
--                                since brings their sends along.

with

customers as (

    select * from {{ ref('int_offer_customers_profiled') }}

),

customer_days as (

    select * from {{ ref('int_customer_days_aggregated') }}
    where
        order_date <= {{ as_of_date() }}
        and order_date > {{ dbt.dateadd('day', -1 * var('offer_revenue_base_days'), as_of_date()) }}

),

early_access_sends as (

    select * from {{ ref('int_offer_sends_classified') }}
    where is_early_access and is_personal_offer and is_in_cap_window

),

customer_revenue as (

    select
        customer_id,
        {{ sum_money('net_amount', ['customer_id']) }} as net_amount

    from customer_days

    group by customer_id

),

segment_revenue as (

    select
        customers.offer_segment,
        count(*) as customers_count,
        coalesce({{ sum_money('customer_revenue.net_amount', {'offer_segment': 'customers.offer_segment'}) }}, 0)
            as revenue_base_amount

    from customers

    left join customer_revenue
        on customers.customer_id = customer_revenue.customer_id

    group by customers.offer_segment

),

segment_events as (

    select
        customers.offer_segment,
        count(distinct early_access_sends.sent_date) as early_access_events_count

    from early_access_sends

    inner join customers
        on early_access_sends.customer_id = customers.customer_id

    group by customers.offer_segment

),

final as (

    select
        segment_revenue.offer_segment,
        segment_revenue.customers_count,
        segment_revenue.revenue_base_amount,
        greatest(
            {{ var('offer_buy_x_get_y_max_revenue_share') }} * segment_revenue.revenue_base_amount, 0
        ) as buy_x_get_y_budget_amount,
        coalesce(segment_events.early_access_events_count, 0) as early_access_events_count

    from segment_revenue

    left join segment_events
        on segment_revenue.offer_segment = segment_events.offer_segment

)

select * from final
