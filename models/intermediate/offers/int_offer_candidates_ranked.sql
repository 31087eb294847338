-- Every target-matched (customer, offer) pair with its final removal reason and its rank among
-- the customer's eligible offers; rank 1 is the customer's offer for this run (is_chosen). The
-- priority: the offer seeds/smartrfm_cells.csv names for the customer's targeting cell first, then
-- the lowest catalog priority (value and status offers before capped bonuses, price discounts,
-- win-back and clearance), then offer_id.
-- The one guardrail that depends on the choice itself is applied here: buy-X-get-Y offers may cost
-- at most the segment's buy_x_get_y_budget_amount. Customers whose first choice is one of them get
-- it in order of net revenue (highest first) while the running cost stays within the budget; the
-- others lose every buy-X-get-Y offer ('buy_x_get_y_budget') and take their next choice. Held-out
-- customers are chosen like everyone else, so both groups get the same mix of offers.

with

-- The guarded pairs are a view over the matching and the guardrails: they are read once, with only
-- the columns the ranking orders and budgets by and the pair's own columns this table keeps.
candidates as (

    select
        customer_id,
        offer_id,
        offer_segment,
        is_buy_x_get_y,
        is_cell_offer,
        priority,
        expected_cost,
        net_revenue,
        segment_buy_x_get_y_budget_amount,
        eligibility_rule,
        channel_consent,
        personalised_field,
        cashback_amount,
        removal_reason

    from {{ ref('int_offer_candidates_guarded') }}

),

eligible as (

    select *

    from candidates

    where removal_reason is null

),

first_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by case when is_cell_offer then 0 else 1 end, priority, offer_id
        ) as first_rank

    from eligible

),

buy_x_get_y_firsts as (

    select
        customer_id,
        segment_buy_x_get_y_budget_amount,
        sum(expected_cost) over (
            partition by offer_segment
            order by net_revenue desc, customer_id asc
            rows between unbounded preceding and current row
        ) as running_cost

    from first_ranked

    where first_rank = 1 and is_buy_x_get_y

),

over_budget as (

    select customer_id

    from buy_x_get_y_firsts

    where running_cost > segment_buy_x_get_y_budget_amount

),

choices as (

    select
        first_ranked.customer_id,
        first_ranked.offer_id,
        row_number() over (
            partition by first_ranked.customer_id
            order by
                case when first_ranked.is_cell_offer then 0 else 1 end,
                first_ranked.priority,
                first_ranked.offer_id
        ) as choice_rank

    from first_ranked

    left join over_budget
        on first_ranked.customer_id = over_budget.customer_id

    where not (first_ranked.is_buy_x_get_y and over_budget.customer_id is not null)

),

ranked as (

    select
        candidates.*,
        coalesce(
            candidates.removal_reason,
            case when candidates.is_buy_x_get_y and over_budget.customer_id is not null then 'buy_x_get_y_budget' end
        ) as final_removal_reason,
        choices.choice_rank

    from candidates

    left join over_budget
        on candidates.customer_id = over_budget.customer_id

    left join choices
        on candidates.customer_id = choices.customer_id
        and candidates.offer_id = choices.offer_id

),

-- Only what the ranking decides and what the pair itself carries is written: the customer's and the
-- offer's columns are in int_offer_customers_profiled and offer_catalog, which the marts join.
final as (

    select
        customer_id,
        offer_id,
        is_buy_x_get_y,
        eligibility_rule,
        is_cell_offer,
        channel_consent,
        personalised_field,
        cashback_amount,
        expected_cost,
        final_removal_reason as removal_reason,
        final_removal_reason is null as is_eligible,
        choice_rank,
        coalesce(choice_rank = 1, false) as is_chosen

    from ranked

)

select * from final
