-- One row per catalog offer: how far it got on this data. Customers whose targets it matched,
-- those it stayed eligible for, those it was chosen for (sent or held out), and those it lost to
-- missing inputs (categories, explicit consent, a personalisation value), to the undersized
-- segment rule and to the guardrails, with the most frequent removal reason. missing_inputs names
-- the inputs the offer requires that no customer in this data has (category: product categories;
-- consent: an explicit opt-in on the offer's channel): the offer cannot be assigned on such data.

with

catalog as (

    select * from {{ ref('offer_catalog') }}

),

candidates as (

    select * from {{ ref('int_offer_candidates_ranked') }}

),

customers as (

    select * from {{ ref('int_offer_customers_profiled') }}

),

-- the pairs as fct_offer_eligibility publishes them, with the customer's holdout flag
eligibility as (

    select
        candidates.offer_id,
        candidates.is_eligible,
        candidates.is_chosen,
        candidates.removal_reason,
        candidates.expected_cost,
        customers.is_holdout

    from candidates

    inner join customers
        on candidates.customer_id = customers.customer_id

),

data_availability as (

    select
        sum(case when favourite_category is not null then 1 else 0 end) > 0 as has_category_data,
        sum(case when consent_email then 1 else 0 end) > 0 as has_email_consent_data,
        sum(case when consent_sms then 1 else 0 end) > 0 as has_sms_consent_data,
        sum(case when consent_push then 1 else 0 end) > 0 as has_push_consent_data

    from customers

),

offer_counts as (

    select
        offer_id,
        count(*) as matched_customers_count,
        {{ sum_count('case when is_eligible then 1 else 0 end') }} as eligible_customers_count,
        {{ sum_count('case when is_chosen and not is_holdout then 1 else 0 end') }} as treated_customers_count,
        {{ sum_count('case when is_chosen and is_holdout then 1 else 0 end') }} as holdout_customers_count,
        {{ sum_money('case when is_chosen and not is_holdout then expected_cost else 0 end', ['offer_id']) }}
            as planned_cost,
        {{ sum_count("case when removal_reason like 'missing_%' then 1 else 0 end") }}
            as removed_for_missing_input_count,
        {{ sum_count("case when removal_reason = 'unassigned_segment' then 1 else 0 end") }}
            as removed_unassigned_segment_count,
        {{ sum_count(
            "case when removal_reason not like 'missing_%' and removal_reason <> 'unassigned_segment'"
            ~ " then 1 else 0 end"
        ) }} as removed_by_guardrail_count

    from eligibility

    group by offer_id

),

reason_counts as (

    select
        offer_id,
        removal_reason,
        count(*) as removed_count

    from eligibility

    where removal_reason is not null

    group by offer_id, removal_reason

),

main_reasons as (

    select
        offer_id,
        removal_reason,
        row_number() over (partition by offer_id order by removed_count desc, removal_reason asc) as reason_rank

    from reason_counts

),

missing as (

    select
        catalog.offer_id,
        {{ dbt.concat([
            "case when " ~ offer_list_has('catalog.requires', 'category')
                ~ " and not data_availability.has_category_data then '|category' else '' end",
            "case when " ~ offer_list_has('catalog.requires', 'consent') ~ " and not (case catalog.channel"
                ~ " when 'email' then data_availability.has_email_consent_data"
                ~ " when 'sms' then data_availability.has_sms_consent_data"
                ~ " when 'push' then data_availability.has_push_consent_data else false end)"
                ~ " then '|consent' else '' end",
        ]) }} as missing_list

    from catalog

    cross join data_availability

),

final as (

    select
        catalog.offer_id,
        {{ as_of_date() }} as as_of_date,
        catalog.offer_name,
        catalog.channel,
        catalog.is_cashback,
        catalog.is_price_discount,
        {{ offer_personalised_field('catalog.offer_id') }} as personalised_field,
        catalog.requires,
        nullif(substr(missing.missing_list, 2), '') as missing_inputs,
        coalesce(offer_counts.matched_customers_count, 0) as matched_customers_count,
        coalesce(offer_counts.eligible_customers_count, 0) as eligible_customers_count,
        coalesce(offer_counts.treated_customers_count, 0) as treated_customers_count,
        coalesce(offer_counts.holdout_customers_count, 0) as holdout_customers_count,
        coalesce(offer_counts.removed_for_missing_input_count, 0) as removed_for_missing_input_count,
        coalesce(offer_counts.removed_unassigned_segment_count, 0) as removed_unassigned_segment_count,
        coalesce(offer_counts.removed_by_guardrail_count, 0) as removed_by_guardrail_count,
        main_reasons.removal_reason as main_removal_reason,
        coalesce(offer_counts.eligible_customers_count, 0) > 0 as is_assignable,
        coalesce(offer_counts.planned_cost, 0) as planned_cost

    from catalog

    inner join missing
        on catalog.offer_id = missing.offer_id

    left join offer_counts
        on catalog.offer_id = offer_counts.offer_id

    left join main_reasons
        on catalog.offer_id = main_reasons.offer_id
        and main_reasons.reason_rank = 1

)

select
    offer_id,
    as_of_date,
    offer_name,
    channel,
    is_cashback,
    is_price_discount,
    personalised_field,
    requires,
    missing_inputs,
    matched_customers_count,
    eligible_customers_count,
    treated_customers_count,
    holdout_customers_count,
    removed_for_missing_input_count,
    removed_unassigned_segment_count,
    removed_by_guardrail_count,
    main_removal_reason,
    is_assignable,
    planned_cost

from final
