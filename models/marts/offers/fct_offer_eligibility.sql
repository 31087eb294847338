-- One row per (customer, offer) pair whose targets match the customer: the eligible pairs with the
-- rule that made them eligible and their rank in the choice, and the pairs a guardrail removed,
-- with that guardrail as removal_reason.

with

candidates as (

    select * from {{ ref('int_offer_candidates_ranked') }}

),

final as (

    select
        customer_id,
        offer_id,
        {{ as_of_date() }} as as_of_date,
        offer_segment,
        smartrfm_group,
        rfm_targeting_segment,
        lifecycle_status,
        value_tier,
        eligibility_rule,
        is_cell_offer,
        priority,
        channel,
        channel_consent,
        is_eligible,
        removal_reason,
        -- row_number() is a bigint on DuckDB and PostgreSQL
        cast(choice_rank as integer) as choice_rank,
        is_chosen,
        is_holdout,
        cashback_amount,
        expected_cost

    from candidates

)

select
    customer_id,
    offer_id,
    as_of_date,
    offer_segment,
    smartrfm_group,
    rfm_targeting_segment,
    lifecycle_status,
    value_tier,
    eligibility_rule,
    is_cell_offer,
    priority,
    channel,
    channel_consent,
    is_eligible,
    removal_reason,
    choice_rank,
    is_chosen,
    is_holdout,
    cashback_amount,
    expected_cost

from final
