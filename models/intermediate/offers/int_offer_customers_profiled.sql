-- One row per scored customer with what the offers stage needs to know about them, as of
-- as_of_date: the targeting segment and cell, lifecycle, value tier, spend, preferences, consent
-- and holdout group (from int_customers_profiled, the model dim_customers publishes),
-- plus two values derived here:
--   expected_value  net revenue per offer_expected_value_horizon_days of tenure (tenure floored at
--                   the horizon): what the customer is worth over the horizon at their pace so far;
--                   the win-back cost guardrail compares offer costs with it
--                   (targeted-loyalty-program: winning back must not cost more than the customer's
--                   potential value)
--   amount_to_top_ltv  net revenue still missing to the lowest net revenue in the top_ltv tier ("N left to
--                   VIP", potential-vip-segments); null for top_ltv customers

with

customers as (

    select * from {{ ref('int_customers_profiled') }}
    where orders_count > 0

),

holdouts as (

    select * from {{ ref('int_offer_holdouts_bucketed') }}

),

joined as (

    select
        customers.customer_id,
        coalesce(customers.smartrfm_targeting_cell, 'unassigned') as offer_segment,
        customers.smartrfm_cell,
        customers.smartrfm_group,
        customers.rfm_targeting_segment,
        customers.lifecycle_status,
        customers.value_tier,
        customers.is_top_ltv,
        customers.orders_count,
        customers.net_revenue,
        customers.avg_order_value,
        customers.tenure_days,
        customers.favourite_category,
        customers.usual_purchase_weekday,
        customers.consent_email,
        customers.consent_sms,
        customers.consent_push,
        holdouts.holdout_bucket,
        holdouts.is_holdout

    from customers

    inner join holdouts
        on customers.customer_id = holdouts.customer_id

),

top_ltv_threshold as (

    select min(net_revenue) as top_ltv_min_net_revenue

    from joined

    where is_top_ltv

),

final as (

    select
        joined.customer_id,
        joined.offer_segment,
        joined.smartrfm_cell,
        joined.smartrfm_group,
        joined.rfm_targeting_segment,
        joined.lifecycle_status,
        joined.value_tier,
        joined.orders_count,
        joined.net_revenue,
        joined.avg_order_value,
        joined.tenure_days,
        cast(joined.net_revenue * {{ var('offer_expected_value_horizon_days') }} as {{ engine_type('double') }})
        / greatest(joined.tenure_days, {{ var('offer_expected_value_horizon_days') }}) as expected_value,
        case
            when not joined.is_top_ltv then top_ltv_threshold.top_ltv_min_net_revenue - joined.net_revenue
        end as amount_to_top_ltv,
        joined.favourite_category,
        joined.usual_purchase_weekday,
        joined.consent_email,
        joined.consent_sms,
        joined.consent_push,
        joined.holdout_bucket,
        joined.is_holdout

    from joined

    cross join top_ltv_threshold

)

select * from final
