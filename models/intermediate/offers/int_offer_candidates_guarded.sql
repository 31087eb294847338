-- Every target-matched (customer, offer) pair with its capped cashback, its expected cost and the
-- first guardrail that removes it (null: still eligible). The guardrails, in the order their
-- reason is reported (docs/offers.md):
--   unassigned_segment       the customer's targeting cell is 'unassigned' (too small to target)
--   missing_input_category   the offer requires product categories and the customer has none
--   no_consent               the customer opted out of the offer's channel
--   missing_input_consent    the offer requires explicit consent and consent is unknown
--   unknown_consent          consent is unknown and var offer_unknown_consent is 'deny'
--   missing_personalisation  the value the message is personalised with is missing (amount to VIP
--                            of a vip customer, say)
--   protected_value_tier     a price discount to a tier in offer_protected_value_tiers
--   frequency_cap            offer_max_personal_offers personal offers already in the window
--   cashback_monthly_cap     offer_max_cashback_offers cashback offers already in the window
--   cashback_ceiling         the capped cashback is below one cent (no average order value)
--   early_access_cap         the segment had offer_max_early_access_events early-access events
--   winback_cost             the expected cost to a sleeping or churned customer, or of a win-back
--                            offer, exceeds offer_winback_max_value_share of the expected value
-- Cashback: the nominal bonus (cashback_pct × average order value, or the fixed amount) capped at
-- offer_cashback_max_aov_share of the average order value, rounded down to the cent. Expected
-- cost assumes the offer is used once on an order of the customer's average value; issued
-- cashback and points lose offer_points_breakage_share to breakage. The articles give no
-- redemption rate, so the cost is an upper bound for discounts and fixed-cost offers.
-- A view: of the three pair models only int_offer_candidates_ranked is written to a table
-- (docs/decisions.md, "Speed and memory on DuckDB").

{{ config(materialized='view') }}

{{ validate_offer_vars() }}

with

candidates as (

    select * from {{ ref('int_offer_candidates_matched') }}

),

costed as (

    select
        *,
        -- whole cents, rounded down; the case is cast as a whole (PostgreSQL drops the scale of a
        -- case whose other branch is null)
        cast(case
            when is_cashback then
                cast(floor(
                    100 * cast(
                        least(
                            case when cost_model = 'cashback_pct' then cost_value * avg_order_value else cost_value end,
                            {{ var('offer_cashback_max_aov_share') }} * avg_order_value
                        ) as decimal(18, 6)
                    )
                ) as decimal(18, 0)) * 0.01
        end as decimal(18, 2)) as cashback_amount

    from candidates

),

expected as (

    select
        *,
        -- rounded half away from zero to money_type(), the same on every engine
        cast(round(case
            when is_cashback then coalesce(cashback_amount, 0) * (1 - {{ var('offer_points_breakage_share') }})
            when cost_model = 'discount_pct' then cost_value * coalesce(avg_order_value, 0)
            when cost_model = 'fixed' then cost_value
            else 0
        end, 4) as {{ money_type() }}) as expected_cost,
        is_winback or lifecycle_status = 'churned' or smartrfm_group = 'sleeping' as is_winback_cost_capped

    from costed

),

guarded as (

    select
        *,
        case
            when offer_segment = 'unassigned' then 'unassigned_segment'
            when {{ offer_list_has('requires', 'category') }} and favourite_category is null
                then 'missing_input_category'
            when not channel_consent then 'no_consent'
            when {{ offer_list_has('requires', 'consent') }} and channel_consent is null
                then 'missing_input_consent'
            {%- if var('offer_unknown_consent') == 'deny' %}
            when channel_consent is null then 'unknown_consent'
            {%- endif %}
            when not has_personalisation then 'missing_personalisation'
            when is_price_discount and {{ offer_in_list('value_tier', var('offer_protected_value_tiers')) }}
                then 'protected_value_tier'
            when personal_offers_in_window_count >= {{ var('offer_max_personal_offers') }} then 'frequency_cap'
            when is_cashback and cashback_offers_in_window_count >= {{ var('offer_max_cashback_offers') }}
                then 'cashback_monthly_cap'
            when is_cashback and coalesce(cashback_amount, 0) <= 0 then 'cashback_ceiling'
            when is_early_access and segment_early_access_events_count >= {{ var('offer_max_early_access_events') }}
                then 'early_access_cap'
            when
                is_winback_cost_capped
                and expected_cost > {{ var('offer_winback_max_value_share') }} * expected_value
                then 'winback_cost'
        end as removal_reason

    from expected

)

select * from guarded
