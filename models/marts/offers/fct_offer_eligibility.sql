-- One row per (customer, offer) pair whose targets match the customer: the eligible pairs with the
-- rule that made them eligible and their rank in the choice, and the pairs a guardrail removed,
-- with that guardrail as removal_reason.

with

candidates as (

    select * from {{ ref('int_offer_candidates_ranked') }}

),

customers as (

    select * from {{ ref('int_offer_customers_profiled') }}

),

catalog as (

    select * from {{ ref('offer_catalog') }}

),

final as (

    select
        candidates.customer_id,
        candidates.offer_id,
        {{ as_of_date() }} as as_of_date,
        customers.offer_segment,
        customers.smartrfm_group,
        customers.rfm_targeting_segment,
        customers.lifecycle_status,
        customers.value_tier,
        candidates.eligibility_rule,
        candidates.is_cell_offer,
        catalog.priority,
        catalog.channel,
        candidates.channel_consent,
        candidates.is_eligible,
        candidates.removal_reason,
        -- row_number() is a bigint on DuckDB and PostgreSQL
        cast(candidates.choice_rank as integer) as choice_rank,
        candidates.is_chosen,
        customers.is_holdout,
        candidates.cashback_amount,
        candidates.expected_cost

    from candidates

    inner join customers
        on candidates.customer_id = customers.customer_id

    inner join catalog
        on candidates.offer_id = catalog.offer_id

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
