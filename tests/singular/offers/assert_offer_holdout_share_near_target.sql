-- The control group's share of the customers chosen an offer is within
-- offer_holdout_share_tolerance (1 percentage point) of offer_holdout_share. The groups come from
-- a hash, not a draw per run, so the share is that of the hash over these customers; with a few
-- thousand customers it lands within a point of the target.

with

assignments as (

    select * from {{ ref('fct_offer_assignments') }}

),

shares as (

    select
        count(*) as customers_count,
        1.0 * sum(case when is_holdout then 1 else 0 end) / count(*) as holdout_share

    from assignments

)

select * from shares
where
    customers_count > 0
    and abs(holdout_share - {{ var('offer_holdout_share') }}) > {{ var('offer_holdout_share_tolerance') }}
