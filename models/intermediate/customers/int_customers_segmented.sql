-- What the purchase history says about each customer with any order up to as_of_date, joined
-- once: facts, RFM scores and segments, SmartRFM cell, targeting segments, lifecycle status and
-- value tier. int_customers_profiled adds preferences, intent signals and consent; two steps, so
-- that no query holds more than four customer-level hash tables (docs/decisions.md).

with

facts as (

    select * from {{ ref('int_customer_facts_snapshotted') }}
    where score_date = {{ as_of_date() }}

),

scored as (

    select * from {{ ref('int_customer_rfm_scored') }}
    where score_date = {{ as_of_date() }}

),

targeted as (

    select * from {{ ref('int_customer_segments_targeted') }}

),

lifecycle as (

    select * from {{ ref('int_customer_lifecycle_classified') }}

),

value_tiers as (

    select * from {{ ref('int_customer_value_tiered') }}

),

joined as (

    select
        facts.customer_id,
        facts.score_date as as_of_date,
        facts.first_order_at,
        facts.last_order_at,
        facts.first_purchase_date,
        facts.last_purchase_date,
        facts.orders_count,
        facts.purchase_days_count,
        facts.is_repeat_customer,
        facts.returns_count,
        facts.gross_revenue,
        facts.returns_amount,
        facts.net_revenue,
        facts.discount_amount,
        facts.avg_order_value,
        facts.recency_days,
        facts.tenure_days,
        facts.avg_days_between_orders,
        lifecycle.typical_interval_days,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        scored.rfm_cell,
        scored.rfm_segment,
        scored.rfm_group,
        targeted.rfm_targeting_segment,
        scored.recency_band,
        scored.frequency_band,
        scored.monetary_band,
        scored.smartrfm_cell,
        scored.smartrfm_group,
        targeted.smartrfm_targeting_cell,
        lifecycle.lifecycle_status,
        lifecycle.is_check_falling,
        value_tiers.value_tier,
        value_tiers.is_top_ltv,
        value_tiers.is_discount_hunter,
        value_tiers.is_frequent_buyer,
        facts.discounted_orders_share,
        facts.margin_amount,
        facts.margin_coverage_share

    from facts

    left join scored
        on facts.customer_id = scored.customer_id

    left join targeted
        on facts.customer_id = targeted.customer_id

    inner join lifecycle
        on facts.customer_id = lifecycle.customer_id

    inner join value_tiers
        on facts.customer_id = value_tiers.customer_id

)

select * from joined
