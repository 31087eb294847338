-- Value tiers as of the scoring date (articles: four-segmentation-methods, value and margin):
--   top_ltv          top top_ltv_share of customers by net revenue (LTV); ties share the tier
--   discount_hunter  at least discount_hunter_min_share of orders discounted (only where discounts
--                    are known)
--   frequent_buyer   at least frequent_buyer_min_orders purchase orders
--   regular          everyone else
-- One customer can carry several flags; value_tier takes the first in the order above.

with

facts as (

    select * from {{ ref('int_customer_facts_snapshotted') }}
    where score_date = {{ as_of_date() }}

),

ranked as (

    select
        *,
        rank() over (order by net_revenue desc) - 1 as customers_with_more_revenue,
        count(*) over () as customers_count

    from facts

),

flagged as (

    select
        customer_id,
        has_purchased
        and customers_with_more_revenue < {{ var('top_ltv_share') }} * customers_count as is_top_ltv,
        coalesce(discounted_orders_share >= {{ var('discount_hunter_min_share') }}, false)
            as is_discount_hunter,
        orders_count >= {{ var('frequent_buyer_min_orders') }} as is_frequent_buyer

    from ranked

),

final as (

    select
        *,
        case
            when is_top_ltv then 'top_ltv'
            when is_discount_hunter then 'discount_hunter'
            when is_frequent_buyer then 'frequent_buyer'
            else 'regular'
        end as value_tier

    from flagged

)

select * from final
