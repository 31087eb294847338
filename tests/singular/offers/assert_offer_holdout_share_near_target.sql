-- The control group's share of the customers chosen an offer is near offer_holdout_share. Groups
-- come from a hash of the customer id (stable across runs), not from a draw per run, so over n
-- customers the share varies by chance with standard deviation sqrt(share × (1 - share) / n):
-- 0.47 percentage points at 4,000 customers, 0.3 at 10,000. This test fails when the share is
-- further off than offer_holdout_share_tolerance (1 point) and than offer_holdout_share_max_z
-- standard deviations: more than chance, a broken hash or salt. Within a point is checked by
-- assert_offer_holdout_share_within_tolerance, a warning.

with

assignments as (

    select * from {{ ref('fct_offer_assignments') }}

),

shares as (

    select
        count(*) as customers_count,
        1.0 * sum(case when is_holdout then 1 else 0 end) / count(*) as holdout_share

    from assignments

),

bounded as (

    select
        customers_count,
        holdout_share,
        greatest(
            {{ var('offer_holdout_share_tolerance') }},
            {{ var('offer_holdout_share_max_z') }} * sqrt(
                {{ var('offer_holdout_share') }} * (1 - {{ var('offer_holdout_share') }}) / customers_count
            )
        ) as allowed_deviation

    from shares

    where customers_count > 0

)

select * from bounded
where abs(holdout_share - {{ var('offer_holdout_share') }}) > allowed_deviation
