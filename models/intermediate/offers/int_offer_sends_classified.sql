-- One row per valid offer send up to as_of_date, with what the guardrails count: whether it was a
-- personal offer actually sent (held-out sends were not), whether it was cashback or early access
-- (from the catalog; unknown offer ids are neither) and whether it falls in the cap window, the
-- offer_cap_window_days days ending at as_of_date, as_of_date included.

with

sends as (

    select * from {{ ref('stg_shop__offer_sends') }}

),

catalog as (

    select * from {{ ref('offer_catalog') }}

),

classified as (

    select
        sends.send_id,
        sends.customer_id,
        sends.offer_id,
        sends.channel,
        sends.sent_at,
        cast(sends.sent_at as date) as sent_date,
        sends.is_holdout,
        catalog.offer_id is not null as is_catalog_offer,
        not sends.is_holdout as is_personal_offer,
        coalesce(catalog.is_cashback, false) as is_cashback,
        coalesce(catalog.is_early_access, false) as is_early_access,
        cast(sends.sent_at as date)
        > {{ dbt.dateadd('day', -1 * var('offer_cap_window_days'), as_of_date()) }} as is_in_cap_window

    from sends

    left join catalog
        on sends.offer_id = catalog.offer_id

    where cast(sends.sent_at as date) <= {{ as_of_date() }}

)

select * from classified
