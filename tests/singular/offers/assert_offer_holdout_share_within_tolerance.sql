{{ config(severity='warn') }}

-- The control group's share of the customers chosen an offer is within
-- offer_holdout_share_tolerance (1 percentage point) of offer_holdout_share. A warning, not an
-- error: with a few thousand customers a stable hash can miss a point by chance (see
-- assert_offer_holdout_share_near_target, which fails beyond chance).

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
