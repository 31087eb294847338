-- What a customer usually buys and when, as of the scoring date: the category they spent most on
-- (needs order lines and product categories) and the ISO weekday (1 = Monday) they bought on most
-- often. Ties go to the alphabetically first category and the earliest weekday.

with

orders as (

    select * from {{ ref('int_orders_measured') }}
    where is_purchase_order and not is_guest and order_date <= {{ as_of_date() }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

category_spend as (

    select
        orders.customer_id,
        products.category,
        {{ sum_money('order_lines.amount', {'customer_id': 'orders.customer_id', 'category': 'products.category'}) }}
            as spend_amount

    from orders

    inner join order_lines
        on orders.order_id = order_lines.order_id

    inner join products
        on order_lines.product_id = products.product_id

    where products.category is not null

    group by orders.customer_id, products.category

),

favourite_category as (

    select
        customer_id,
        category as favourite_category,
        row_number() over (partition by customer_id order by spend_amount desc, category asc) as preference_rank

    from category_spend

),

purchase_days as (

    select * from {{ ref('int_customer_days_aggregated') }}
    where purchase_orders_count > 0 and order_date <= {{ as_of_date() }}

),

weekday_counts as (

    select
        customer_id,
        {{ iso_day_of_week('order_date') }} as iso_weekday,
        count(*) as purchase_days_count

    from purchase_days

    group by customer_id, {{ iso_day_of_week('order_date') }}

),

usual_weekday as (

    -- the most frequent weekday, the earliest on a tie, as one plain aggregate (no window, so
    -- that it spills to disk like any group by): the key orders by count, then by the earlier day
    select
        customer_id,
        cast(7 - mod(max(purchase_days_count * 8 + (7 - iso_weekday)), 8) as integer) as usual_purchase_weekday

    from weekday_counts

    group by customer_id

),

final as (

    select
        usual_weekday.customer_id,
        usual_weekday.usual_purchase_weekday,
        favourite_category.favourite_category

    from usual_weekday

    left join favourite_category
        on usual_weekday.customer_id = favourite_category.customer_id
        and favourite_category.preference_rank = 1

)

select * from final
