-- Behavioural intent signals as of as_of_date, from product views, add-to-cart events and visits
-- in the last intent_window_days (articles: four-segmentation-methods, behavioural segmentation:
-- "3+ product cards of category X", "repeat visits within 72 hours", "abandoned cart").
-- Empty without an events file.

with

events as (

    select * from {{ ref('stg_shop__events') }}
    where
        event_date <= {{ as_of_date() }}
        and event_date > {{ dbt.dateadd('day', -1 * var('intent_window_days'), as_of_date()) }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

purchases as (

    select
        customer_id,
        max(order_date) as last_purchase_date

    from {{ ref('int_customer_days_aggregated') }}

    where
        purchase_orders_count > 0
        and order_date <= {{ as_of_date() }}
        -- only customers with a cart in the window need it
        and customer_id in (
            select cart_events.customer_id from events as cart_events
            where cart_events.event_type = 'add_to_cart'
        )

    group by customer_id

),

visits as (

    select
        customer_id,
        event_at,
        lag(event_at) over (partition by customer_id order by event_at) as previous_visit_at

    from events

    where event_type = 'visit'

),

repeat_visits as (

    select distinct customer_id
    from visits
    where
        previous_visit_at is not null
        and event_at <= {{ dbt.dateadd('hour', var('intent_repeat_visit_hours'), 'previous_visit_at') }}

),

category_views as (

    select
        events.customer_id,
        products.category,
        count(*) as views_count

    from events

    inner join products
        on events.product_id = products.product_id

    where events.event_type = 'product_view' and products.category is not null

    group by events.customer_id, products.category

),

intent_category as (

    select
        customer_id,
        category,
        row_number() over (partition by customer_id order by views_count desc, category asc) as category_rank

    from category_views

    where views_count >= {{ var('intent_min_category_views') }}

),

counts as (

    select
        customer_id,
        count(case when event_type = 'product_view' then 1 end) as product_views_count,
        count(case when event_type = 'add_to_cart' then 1 end) as add_to_cart_count,
        count(case when event_type = 'visit' then 1 end) as visits_count,
        max(case when event_type = 'add_to_cart' then event_date end) as last_add_to_cart_date

    from events

    group by customer_id

),

final as (

    select
        counts.customer_id,
        counts.product_views_count,
        counts.add_to_cart_count,
        counts.visits_count,
        -- a cart after the last purchase day (or with no purchase at all) is abandoned
        coalesce(
            counts.last_add_to_cart_date > purchases.last_purchase_date
            or (counts.last_add_to_cart_date is not null and purchases.last_purchase_date is null),
            false
        ) as has_abandoned_cart,
        repeat_visits.customer_id is not null as has_repeat_visit,
        intent_category.category as intent_category

    from counts

    left join purchases
        on counts.customer_id = purchases.customer_id

    left join repeat_visits
        on counts.customer_id = repeat_visits.customer_id

    left join intent_category
        on counts.customer_id = intent_category.customer_id
        and intent_category.category_rank = 1

)

select * from final
