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
        segmented.*,
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
