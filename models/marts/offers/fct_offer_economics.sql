-- One row per offer segment (the SmartRFM targeting cell): what this run's offers are expected to
-- cost, by cost model, against the segment's revenue base (net revenue over the last
-- offer_revenue_base_days). Held-out customers cost nothing. Issued cashback and points are shown
-- before and after breakage (offer_points_breakage_share never redeemed). The buy-X-get-Y cost is
-- shown beside the budget it must stay within (offer_buy_x_get_y_max_revenue_share of the base).

with

segments as (

    select * from {{ ref('int_offer_segments_summarised') }}

),

assignments as (

    select * from {{ ref('fct_offer_assignments') }}

),

segment_costs as (

    select
        offer_segment,
        {{ sum_count('case when is_holdout then 0 else 1 end') }} as treated_customers_count,
        {{ sum_count('case when is_holdout then 1 else 0 end') }} as holdout_customers_count,
        {{ sum_money('expected_cost', ['offer_segment']) }} as planned_cost,
        -- cashback is paid in cents
        cast(coalesce(sum(cashback_amount), 0) as decimal(18, 2)) as issued_cashback_amount,
        {{ sum_money('case when is_cashback then expected_cost else 0 end', ['offer_segment']) }} as cashback_cost,
        {{ sum_money('case when is_price_discount then expected_cost else 0 end', ['offer_segment']) }}
            as discount_cost,
        {{ sum_money(
            'case when not is_cashback and not is_price_discount then expected_cost else 0 end', ['offer_segment']
        ) }} as fixed_cost,
        {{ sum_money('case when is_buy_x_get_y then expected_cost else 0 end', ['offer_segment']) }}
            as buy_x_get_y_cost

    from assignments

    group by offer_segment

),

final as (

    select
        segments.offer_segment,
        {{ as_of_date() }} as as_of_date,
        segments.customers_count,
        coalesce(segment_costs.treated_customers_count, 0) as treated_customers_count,
        coalesce(segment_costs.holdout_customers_count, 0) as holdout_customers_count,
        segments.customers_count
        - coalesce(segment_costs.treated_customers_count, 0)
        - coalesce(segment_costs.holdout_customers_count, 0) as no_offer_customers_count,
        coalesce(segment_costs.planned_cost, 0) as planned_cost,
        coalesce(segment_costs.issued_cashback_amount, 0) as issued_cashback_amount,
        cast(
            coalesce(segment_costs.issued_cashback_amount, 0) * {{ var('offer_points_breakage_share') }}
            as {{ money_type() }}
        ) as expected_breakage_amount,
        coalesce(segment_costs.cashback_cost, 0) as cashback_cost,
        coalesce(segment_costs.discount_cost, 0) as discount_cost,
        coalesce(segment_costs.fixed_cost, 0) as fixed_cost,
        {{ var('offer_revenue_base_days') }} as revenue_base_days,
        -- published wider than money_type(), as the contract has always declared it
        cast(segments.revenue_base_amount as decimal(38, 6)) as revenue_base_amount,
        case
            when segments.revenue_base_amount > 0
                then
                    cast(coalesce(segment_costs.planned_cost, 0) as {{ engine_type('double') }})
                    / segments.revenue_base_amount
        end as planned_cost_share_of_revenue,
        coalesce(segment_costs.buy_x_get_y_cost, 0) as buy_x_get_y_cost,
        -- the budget is share × base, with more decimals than money: published rounded to money_type()
        cast(segments.buy_x_get_y_budget_amount as {{ money_type() }}) as buy_x_get_y_budget_amount,
        segments.early_access_events_count

    from segments

    left join segment_costs
        on segments.offer_segment = segment_costs.offer_segment

)

select
    offer_segment,
    as_of_date,
    customers_count,
    treated_customers_count,
    holdout_customers_count,
    no_offer_customers_count,
    planned_cost,
    issued_cashback_amount,
    expected_breakage_amount,
    cashback_cost,
    discount_cost,
    fixed_cost,
    revenue_base_days,
    revenue_base_amount,
    planned_cost_share_of_revenue,
    buy_x_get_y_cost,
    buy_x_get_y_budget_amount,
    early_access_events_count

from final
