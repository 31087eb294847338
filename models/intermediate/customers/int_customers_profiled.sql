-- Everything known about each customer with any order up to as_of_date: what the purchase
-- history says (int_customers_segmented) with preferences, intent signals and consent.
-- dim_customers publishes it under a contract; the offers stage reads it too.

with

segmented as (

    select * from {{ ref('int_customers_segmented') }}

),

preferences as (

    select * from {{ ref('int_customer_preferences') }}

),

profiles as (

    select * from {{ ref('stg_shop__customers') }}

),

intent as (

    select * from {{ ref('int_customer_intent_signals') }}

),

joined as (

    select
        segmented.customer_id,
        segmented.as_of_date,
        segmented.first_order_at,
        segmented.last_order_at,
        segmented.first_purchase_date,
        segmented.last_purchase_date,
        segmented.orders_count,
        segmented.purchase_days_count,
        segmented.returns_count,
        segmented.gross_revenue,
        segmented.returns_amount,
        segmented.net_revenue,
        segmented.discount_amount,
        segmented.avg_order_value,
        segmented.recency_days,
        segmented.tenure_days,
        segmented.avg_days_between_orders,
        segmented.typical_interval_days,
        segmented.r_score,
        segmented.f_score,
        segmented.m_score,
        segmented.rfm_cell,
        segmented.rfm_segment,
        segmented.rfm_group,
        segmented.rfm_targeting_segment,
        segmented.recency_band,
        segmented.frequency_band,
        segmented.monetary_band,
        segmented.smartrfm_cell,
        segmented.smartrfm_group,
        segmented.smartrfm_targeting_cell,
        segmented.lifecycle_status,
        segmented.is_check_falling,
        segmented.value_tier,
        segmented.is_vip,
        segmented.is_discount_hunter,
        segmented.is_frequent_buyer,
        segmented.discounted_orders_share,
        segmented.margin_amount,
        segmented.margin_coverage_share,
        preferences.favourite_category,
        preferences.usual_purchase_weekday,
        intent.product_views_count,
        intent.add_to_cart_count,
        intent.visits_count,
        intent.has_abandoned_cart,
        intent.has_repeat_visit,
        intent.intent_category,
        profiles.signup_at,
        profiles.consent_email,
        profiles.consent_sms,
        profiles.consent_push

    from segmented

    left join preferences
        on segmented.customer_id = preferences.customer_id

    left join profiles
        on segmented.customer_id = profiles.customer_id

    left join intent
        on segmented.customer_id = intent.customer_id

)

select * from joined
