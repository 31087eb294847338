-- Frequency cap (best-customers-without-discounts: no more than 1-2 personal offers per customer a
-- month): for every customer sent an offer in this run, the personal offers sent in the
-- offer_cap_window_days days ending at as_of_date plus this one are at most
-- offer_max_personal_offers. Counted here from staging, independently of the offers models.

with

sends as (

    select * from {{ ref('stg_shop__offer_sends') }}
    where
        not is_holdout
        and cast(sent_at as date) <= {{ as_of_date() }}
        and cast(sent_at as date) > {{ dbt.dateadd('day', -1 * var('offer_cap_window_days'), as_of_date()) }}

),

assignments as (

    select * from {{ ref('fct_offer_assignments') }}
    where not is_holdout

),

counted as (

    select
        assignments.customer_id,
        count(sends.send_id) + 1 as personal_offers_count

    from assignments

    left join sends
        on assignments.customer_id = sends.customer_id

    group by assignments.customer_id

)

select * from counted
where personal_offers_count > {{ var('offer_max_personal_offers') }}
