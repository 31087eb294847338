-- One row per scored customer with what the offers stage needs to know about them, as of
-- as_of_date: the targeting segment and cell, lifecycle, value tier, spend, preferences, consent
-- and holdout group (the same inputs as dim_customers, which the intermediate layer cannot read),
-- plus two values derived here:
--   expected_value  net revenue per offer_expected_value_horizon_days of tenure (tenure floored at
--                   the horizon): what the customer is worth over the horizon at their pace so far;
--                   the win-back cost guardrail compares offer costs with it
--                   (targeted-loyalty-program: winning back must not cost more than the customer's
--                   potential value)
--   amount_to_vip   net revenue still missing to the lowest net revenue in the vip tier ("N left to
--                   VIP", potential-vip-segments); null for vip customers

with

facts as (

    select * from {{ ref('int_customer_facts_snapshotted') }}
    where is_current and has_purchased

),

scored as (

    select * from {{ ref('int_customer_rfm_scored') }}
    where is_current

),

targeted as (

    select * from {{ ref('int_customer_segments_targeted') }}

),

lifecycle as (

    select * from {{ ref('int_customer_lifecycle_classified') }}
    where is_current

),

value_tiers as (

    select * from {{ ref('int_customer_value_tiered') }}

),

preferences as (

    select * from {{ ref('int_customer_preferences') }}

),

profiles as (

    select * from {{ ref('stg_shop__customers') }}

),

holdouts as (

    select * from {{ ref('int_offer_holdouts_bucketed') }}

),

joined as (

    select
        facts.customer_id,
        coalesce(targeted.smartrfm_targeting_cell, 'unassigned') as offer_segment,
        scored.smartrfm_cell,
        scored.smartrfm_group,
        targeted.rfm_targeting_segment,
        lifecycle.lifecycle_status,
        value_tiers.value_tier,
        value_tiers.is_vip,
        facts.orders_count,
        facts.net_revenue,
        facts.avg_order_value,
        facts.tenure_days,
        preferences.favourite_category,
        preferences.usual_purchase_weekday,
        profiles.consent_email,
        profiles.consent_sms,
        profiles.consent_push,
        holdouts.holdout_bucket,
        holdouts.is_holdout

    from facts

    inner join scored
        on facts.customer_id = scored.customer_id

    inner join lifecycle
        on facts.customer_id = lifecycle.customer_id

    inner join value_tiers
        on facts.customer_id = value_tiers.customer_id

    inner join holdouts
        on facts.customer_id = holdouts.customer_id

    left join targeted
        on facts.customer_id = targeted.customer_id

    left join preferences
        on facts.customer_id = preferences.customer_id

    left join profiles
        on facts.customer_id = profiles.customer_id

),

vip_threshold as (

    select min(net_revenue) as vip_min_net_revenue

    from joined

    where is_vip

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
        1.0 * joined.net_revenue * {{ var('offer_expected_value_horizon_days') }}
        / greatest(joined.tenure_days, {{ var('offer_expected_value_horizon_days') }}) as expected_value,
        case
            when not joined.is_vip then vip_threshold.vip_min_net_revenue - joined.net_revenue
        end as amount_to_vip,
        joined.favourite_category,
        joined.usual_purchase_weekday,
        joined.consent_email,
        joined.consent_sms,
        joined.consent_push,
        joined.holdout_bucket,
        joined.is_holdout

    from joined

    cross join vip_threshold

)

select * from final
