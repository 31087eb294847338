-- Early-access cap (best-customers-without-discounts: no more than 1-2 early-access events a month
-- per group): per targeting segment, the distinct days an early-access offer was sent in the cap
-- window, plus this run when it sends one, are at most offer_max_early_access_events. Counted from
-- staging, the catalog and dim_customers.

with

catalog as (

    select * from {{ ref('offer_catalog') }}
    where is_early_access

),

customers as (

    select
        customer_id,
        smartrfm_targeting_cell as offer_segment

    from {{ ref('dim_customers') }}

),

sends as (

    select * from {{ ref('stg_shop__offer_sends') }}
    where
        not is_holdout
        and cast(sent_at as date) <= {{ as_of_date() }}
        and cast(sent_at as date) > {{ dbt.dateadd('day', -1 * var('offer_cap_window_days'), as_of_date()) }}

),

past_events as (

    select
        customers.offer_segment,
        count(distinct cast(sends.sent_at as date)) as events_count

    from sends

    inner join catalog
        on sends.offer_id = catalog.offer_id

    inner join customers
        on sends.customer_id = customers.customer_id

    group by customers.offer_segment

),

this_run as (

    select
        offer_segment,
        1 as events_count

    from {{ ref('fct_offer_assignments') }}

    where is_early_access and not is_holdout

    group by offer_segment

),

counted as (

    select
        this_run.offer_segment,
        coalesce(past_events.events_count, 0) + this_run.events_count as events_count

    from this_run

    left join past_events
        on this_run.offer_segment = past_events.offer_segment

)

select * from counted
where events_count > {{ var('offer_max_early_access_events') }}
