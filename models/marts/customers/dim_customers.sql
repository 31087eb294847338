-- One row per customer with any order up to as_of_date: facts, RFM scores and segments, SmartRFM
-- cell, lifecycle status, value tier, preferences, intent signals and consent, under a contract.
-- The columns are listed here as the contract declares them; each gets its type where it is
-- computed upstream, so that a type that drifts there fails the contract instead of being cast.

with

profiled as (

    select * from {{ ref('int_customers_profiled') }}

)

select
    customer_id,
    as_of_date,
    first_order_at,
    last_order_at,
    first_purchase_date,
    last_purchase_date,
    orders_count,
    purchase_days_count,
    is_repeat_customer,
    returns_count,
    gross_revenue,
    returns_amount,
    net_revenue,
    discount_amount,
    avg_order_value,
    recency_days,
    tenure_days,
    avg_days_between_orders,
    typical_interval_days,
    r_score,
    f_score,
    m_score,
    rfm_cell,
    rfm_segment,
    rfm_group,
    rfm_targeting_segment,
    recency_band,
    frequency_band,
    monetary_band,
    smartrfm_cell,
    smartrfm_group,
    smartrfm_targeting_cell,
    lifecycle_status,
    is_check_falling,
    value_tier,
    is_top_ltv,
    is_discount_hunter,
    is_frequent_buyer,
    discounted_orders_share,
    margin_amount,
    margin_coverage_share,
    favourite_category,
    usual_purchase_weekday,
    product_views_count,
    add_to_cart_count,
    visits_count,
    has_abandoned_cart,
    has_repeat_visit,
    intent_category,
    signup_at,
    consent_email,
    consent_sms,
    consent_push

from profiled
