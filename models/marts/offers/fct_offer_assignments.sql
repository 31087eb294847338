-- At most one offer per customer for this run: the eligible offer ranked first
-- (int_offer_candidates_ranked), with its customer's and its offer's columns. Held-out customers
-- keep their row, with is_holdout, but are not sent the offer: no cashback, no cost. The values
-- that personalise the message are filled only for the offer that uses them (var
-- offer_personalised_fields).

with

chosen as (

    select * from {{ ref('int_offer_candidates_ranked') }}
    where is_chosen

),

customers as (

    select * from {{ ref('int_offer_customers_profiled') }}

),

catalog as (

    select * from {{ ref('offer_catalog') }}

),

-- the chosen pair with its customer's and its offer's columns
pairs as (

    select
        chosen.*,
        customers.offer_segment,
        customers.smartrfm_group,
        customers.rfm_targeting_segment,
        customers.lifecycle_status,
        customers.value_tier,
        customers.orders_count,
        customers.avg_order_value,
        customers.expected_value,
        customers.amount_to_top_ltv,
        customers.favourite_category,
        customers.usual_purchase_weekday,
        customers.holdout_bucket,
        customers.is_holdout,
        catalog.offer_name,
        catalog.mechanic,
        catalog.channel,
        catalog.is_price_discount,
        catalog.is_early_access,
        catalog.is_cashback,
        catalog.is_winback,
        catalog.cost_model,
        catalog.cost_value,
        catalog.validity_days,
        catalog.priority

    from chosen

    inner join customers
        on chosen.customer_id = customers.customer_id

    inner join catalog
        on chosen.offer_id = catalog.offer_id

),

final as (

    select
        customer_id,
        {{ as_of_date() }} as as_of_date,
        offer_id,
        offer_name,
        mechanic,
        channel,
        is_holdout,
        -- the bucket is below 10000: an integer (the hash arithmetic gives a bigint)
        cast(holdout_bucket as integer) as holdout_bucket,
        offer_segment,
        smartrfm_group,
        rfm_targeting_segment,
        lifecycle_status,
        value_tier,
        eligibility_rule,
        is_cell_offer,
        priority,
        is_price_discount,
        is_cashback,
        is_early_access,
        is_winback,
        is_buy_x_get_y,
        cost_model,
        case when cost_model = 'discount_pct' then cost_value end as discount_share,
        case when not is_holdout then cashback_amount end as cashback_amount,
        case when is_holdout then 0 else expected_cost end as expected_cost,
        expected_cost as planned_cost_if_sent,
        avg_order_value,
        expected_value,
        channel_consent,
        case when personalised_field = 'favourite_category' then favourite_category end as favourite_category,
        case when personalised_field = 'usual_purchase_weekday' then usual_purchase_weekday end
            as usual_purchase_weekday,
        -- the message quotes the amount in cents, rounded half away from zero
        cast(
            case when personalised_field = 'amount_to_top_ltv' then amount_to_top_ltv end as decimal(18, 2)
        ) as amount_to_top_ltv,
        case when personalised_field = 'orders_count' then orders_count end as orders_count,
        {{ as_of_date() }} as valid_from,
        cast({{ dbt.dateadd('day', 'validity_days - 1', as_of_date()) }} as date) as valid_to

    from pairs

)

select
    customer_id,
    as_of_date,
    offer_id,
    offer_name,
    mechanic,
    channel,
    is_holdout,
    holdout_bucket,
    offer_segment,
    smartrfm_group,
    rfm_targeting_segment,
    lifecycle_status,
    value_tier,
    eligibility_rule,
    is_cell_offer,
    priority,
    is_price_discount,
    is_cashback,
    is_early_access,
    is_winback,
    is_buy_x_get_y,
    cost_model,
    discount_share,
    cashback_amount,
    expected_cost,
    planned_cost_if_sent,
    avg_order_value,
    expected_value,
    channel_consent,
    favourite_category,
    usual_purchase_weekday,
    amount_to_top_ltv,
    orders_count,
    valid_from,
    valid_to

from final
