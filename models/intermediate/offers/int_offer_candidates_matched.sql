-- One row per (customer, offer) pair whose targets match the customer: every non-empty target list
-- of the catalog (SmartRFM group, RFM targeting segment, lifecycle status, value tier;
-- '|'-separated, empty = any) contains the customer's value. eligibility_rule says which values
-- matched. The pair carries everything the guardrails look at: the customer's consent on the
-- offer's channel, the personalisation value the message needs, sends in the cap window and the
-- segment's early-access events and buy-X-get-Y budget. is_cell_offer marks the offer
-- seeds/smartrfm_cells.csv names for the customer's targeting cell (folded and unassigned cells
-- have none): the first choice when it survives the guardrails.
-- A view: of the three pair models only int_offer_candidates_ranked is written to a table
-- (docs/decisions.md, "Speed and memory on DuckDB").

{{ config(materialized='view') }}

{{ validate_offer_vars() }}

with

customers as (

    select * from {{ ref('int_offer_customers_profiled') }}

),

catalog as (

    select * from {{ ref('offer_catalog') }}

),

smartrfm_cells as (

    select * from {{ ref('smartrfm_cells') }}

),

sends as (

    select * from {{ ref('int_offer_sends_classified') }}
    where is_personal_offer and is_in_cap_window

),

segments as (

    select * from {{ ref('int_offer_segments_summarised') }}

),

send_counts as (

    select
        customer_id,
        count(*) as personal_offers_in_window_count,
        count(case when is_cashback then 1 end) as cashback_offers_in_window_count

    from sends

    group by customer_id

),

pairs as (

    select
        customers.*,
        catalog.offer_id,
        catalog.offer_name,
        catalog.mechanic,
        catalog.channel,
        catalog.is_price_discount,
        catalog.is_early_access,
        catalog.is_cashback,
        catalog.is_winback,
        {{ offer_in_list('catalog.offer_id', var('offer_buy_x_get_y_offer_ids')) }} as is_buy_x_get_y,
        catalog.cost_model,
        catalog.cost_value,
        catalog.requires,
        catalog.validity_days,
        catalog.priority,
        {{ dbt.concat([
            "case when catalog.target_smartrfm_groups <> '' then "
                ~ dbt.concat(["'; smartrfm_group='", "customers.smartrfm_group"]) ~ " else '' end",
            "case when catalog.target_rfm_segments <> '' then "
                ~ dbt.concat(["'; rfm_targeting_segment='", "customers.rfm_targeting_segment"]) ~ " else '' end",
            "case when catalog.target_lifecycle_statuses <> '' then "
                ~ dbt.concat(["'; lifecycle_status='", "customers.lifecycle_status"]) ~ " else '' end",
            "case when catalog.target_value_tiers <> '' then "
                ~ dbt.concat(["'; value_tier='", "customers.value_tier"]) ~ " else '' end",
        ]) }} as matched_targets

    from customers

    cross join catalog

    where
        {{ offer_list_matches('catalog.target_smartrfm_groups', 'customers.smartrfm_group') }}
        and {{ offer_list_matches('catalog.target_rfm_segments', 'customers.rfm_targeting_segment') }}
        and {{ offer_list_matches('catalog.target_lifecycle_statuses', 'customers.lifecycle_status') }}
        and {{ offer_list_matches('catalog.target_value_tiers', 'customers.value_tier') }}

),

personalised as (

    select
        *,
        {{ offer_personalised_field('offer_id') }} as personalised_field

    from pairs

),

final as (

    select
        personalised.customer_id,
        personalised.offer_id,
        personalised.offer_segment,
        personalised.smartrfm_group,
        personalised.rfm_targeting_segment,
        personalised.lifecycle_status,
        personalised.value_tier,
        personalised.orders_count,
        personalised.net_revenue,
        personalised.avg_order_value,
        personalised.expected_value,
        personalised.amount_to_top_ltv,
        personalised.favourite_category,
        personalised.usual_purchase_weekday,
        personalised.holdout_bucket,
        personalised.is_holdout,
        personalised.offer_name,
        personalised.mechanic,
        personalised.channel,
        personalised.is_price_discount,
        personalised.is_early_access,
        personalised.is_cashback,
        personalised.is_winback,
        personalised.is_buy_x_get_y,
        personalised.cost_model,
        personalised.cost_value,
        personalised.requires,
        personalised.validity_days,
        personalised.priority,
        coalesce(
            nullif(substr(personalised.matched_targets, 3), ''), 'any customer'
        ) as eligibility_rule,
        coalesce(smartrfm_cells.offer_id = personalised.offer_id, false) as is_cell_offer,
        case personalised.channel
            when 'email' then personalised.consent_email
            when 'sms' then personalised.consent_sms
            when 'push' then personalised.consent_push
        end as channel_consent,
        personalised.personalised_field,
        case personalised.personalised_field
            when 'amount_to_top_ltv' then personalised.amount_to_top_ltv is not null
            when 'favourite_category' then personalised.favourite_category is not null
            when 'usual_purchase_weekday' then personalised.usual_purchase_weekday is not null
            when 'orders_count' then personalised.orders_count is not null
            else true
        end as has_personalisation,
        coalesce(send_counts.personal_offers_in_window_count, 0) as personal_offers_in_window_count,
        coalesce(send_counts.cashback_offers_in_window_count, 0) as cashback_offers_in_window_count,
        coalesce(segments.early_access_events_count, 0) as segment_early_access_events_count,
        coalesce(segments.buy_x_get_y_budget_amount, 0) as segment_buy_x_get_y_budget_amount

    from personalised

    left join smartrfm_cells
        on personalised.offer_segment = smartrfm_cells.smartrfm_cell

    left join send_counts
        on personalised.customer_id = send_counts.customer_id

    left join segments
        on personalised.offer_segment = segments.offer_segment

)

select * from final
