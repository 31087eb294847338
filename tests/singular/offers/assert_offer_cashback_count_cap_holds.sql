-- Cashback count cap (best-customers-without-discounts: a cap on the number of cashback offers a
-- month): for every customer sent a cashback offer in this run, the cashback offers sent in the cap
-- window plus this one are at most offer_max_cashback_offers. Counted from staging and the catalog.

with

catalog as (

    select * from {{ ref('offer_catalog') }}
    where is_cashback

),

sends as (

    select * from {{ ref('stg_shop__offer_sends') }}
    where
        not is_holdout
        and cast(sent_at as date) <= {{ as_of_date() }}
        and cast(sent_at as date) > {{ dbt.dateadd('day', -1 * var('offer_cap_window_days'), as_of_date()) }}

),

cashback_sends as (

    select sends.customer_id

    from sends

    inner join catalog
        on sends.offer_id = catalog.offer_id

),

assignments as (

    select * from {{ ref('fct_offer_assignments') }}
    where not is_holdout and is_cashback

),

counted as (

    select
        assignments.customer_id,
        count(cashback_sends.customer_id) + 1 as cashback_offers_count

    from assignments

    left join cashback_sends
        on assignments.customer_id = cashback_sends.customer_id

    group by assignments.customer_id

)

select * from counted
where cashback_offers_count > {{ var('offer_max_cashback_offers') }}
