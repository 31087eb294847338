-- Lifecycle status of each customer as of as_of_date, from the customer's own rhythm.
-- Repeat buyers are judged against their typical interval between purchase days; one-time buyers,
-- who have no rhythm yet, against global windows. First matching rule wins:
--   returns_only  no purchase at all, only returns (history before the data starts)
--   new           first purchase within lifecycle_new_days
--   reactivated   last purchase within lifecycle_reactivation_window_days, after a gap that had
--                 already made them churned (judged by the rhythm they had before that gap)
--   churned       gap since the last purchase > churn multiplier × interval (one-time buyers:
--                 > lifecycle_one_time_churn_days)
--   churn_risk       gap > churn-risk multiplier × interval, or gap > interval with a falling average
--                 check (one-time buyers: > lifecycle_one_time_churn_risk_days)
--   active        everyone else

with

facts as (

    select * from {{ ref('int_customer_facts_snapshotted') }}
    where score_date = {{ as_of_date() }}

),

rhythm as (

    select
        *,
        case
            when avg_days_between_orders is not null
                then case
                    when avg_days_between_orders < {{ var('lifecycle_min_interval_days') }}
                        then {{ var('lifecycle_min_interval_days') }}
                    else avg_days_between_orders
                end
        end as typical_interval_days,
        case
            when avg_days_between_orders_before_last is not null
                then case
                    when avg_days_between_orders_before_last < {{ var('lifecycle_min_interval_days') }}
                        then {{ var('lifecycle_min_interval_days') }}
                    else avg_days_between_orders_before_last
                end
        end as typical_interval_days_before_last,
        coalesce(
            recent_avg_order_value
            < (1 - {{ var('lifecycle_check_drop_share') }}) * earlier_avg_order_value,
            false
        ) as is_check_falling

    from facts

),

flagged as (

    select
        *,
        case
            when purchase_days_count < 2 then null
            when purchase_days_count = 2
                then last_gap_days > {{ var('lifecycle_one_time_churn_days') }}
            else
                last_gap_days
                > {{ var('lifecycle_churn_interval_multiplier') }} * typical_interval_days_before_last
        end as was_churned_before_last_purchase,
        case
            when typical_interval_days is null
                then recency_days > {{ var('lifecycle_one_time_churn_days') }}
            else recency_days > {{ var('lifecycle_churn_interval_multiplier') }} * typical_interval_days
        end as is_past_churn_gap,
        case
            when typical_interval_days is null
                then recency_days > {{ var('lifecycle_one_time_churn_risk_days') }}
            else
                recency_days > {{ var('lifecycle_churn_risk_interval_multiplier') }} * typical_interval_days
                or (is_check_falling and recency_days > typical_interval_days)
        end as is_past_churn_risk_gap

    from rhythm

),

classified as (

    select
        customer_id,
        typical_interval_days,
        is_check_falling,
        case
            when not has_purchased then 'returns_only'
            when tenure_days <= {{ var('lifecycle_new_days') }} then 'new'
            when
                recency_days <= {{ var('lifecycle_reactivation_window_days') }}
                and was_churned_before_last_purchase then 'reactivated'
            when is_past_churn_gap then 'churned'
            when is_past_churn_risk_gap then 'churn_risk'
            else 'active'
        end as lifecycle_status

    from flagged

)

select * from classified
