-- The measured effect of offer sends: held-out against treated recipients, per offer and send
-- segment, per offer, per segment and overall (the '(all offers)' / '(all segments)' rows). Only
-- sends whose offer_measurement_window_days window had closed by as_of_date count; the others are
-- counted in open_window_sends_count. The unit is a send (one customer contacted once).
--   conversion   share of sends followed by a purchase in the window; the uplift is the
--                difference treated - holdout with a normal-approximation interval for two
--                independent proportions (unpooled standard error)
--   revenue      purchase revenue in the window per send; the uplift is the difference in means
--                with Welch's unequal-variance standard error and a normal quantile
-- Intervals use z = offer_measurement_z (1.96: 95%) and are null when either group has fewer than
-- offer_measurement_min_sends closed sends. A customer sent several offers contributes several
-- sends, so the intervals are slightly too narrow when customers' sends are correlated.

{%- set groupings = [
    ('offer_id', 'send_segment'),
    ('offer_id', "'(all segments)'"),
    ("'(all offers)'", 'send_segment'),
    ("'(all offers)'", "'(all segments)'"),
] %}
{%- set z = var('offer_measurement_z') %}
{%- set min_sends = var('offer_measurement_min_sends') %}

with

sends as (

    select * from {{ ref('int_offer_sends_measured') }}

),

grouped as (

    {%- for offer_expression, segment_expression in groupings %}

    select
        {{ offer_expression }} as offer_id,  -- noqa: AL09
        {{ segment_expression }} as send_segment,  -- noqa: AL09
        {{ sum_count('case when is_window_closed and not is_holdout then 1 else 0 end') }} as treated_sends_count,
        {{ sum_count('case when is_window_closed and is_holdout then 1 else 0 end') }} as holdout_sends_count,
        {{ sum_count('case when is_window_closed and not is_holdout and is_converted then 1 else 0 end') }}
            as treated_converted_count,
        {{ sum_count('case when is_window_closed and is_holdout and is_converted then 1 else 0 end') }}
            as holdout_converted_count,
        sum(case when is_window_closed and not is_holdout then window_revenue else 0 end) as treated_revenue,
        sum(case when is_window_closed and is_holdout then window_revenue else 0 end) as holdout_revenue,
        var_samp(case when is_window_closed and not is_holdout then window_revenue end) as treated_revenue_variance,
        var_samp(case when is_window_closed and is_holdout then window_revenue end) as holdout_revenue_variance,
        {{ sum_count('case when is_window_closed then 0 else 1 end') }} as open_window_sends_count

    from sends

    {%- if offer_expression == 'offer_id' and segment_expression == 'send_segment' %}
    group by offer_id, send_segment
    {%- elif offer_expression == 'offer_id' %}
    group by offer_id
    {%- elif segment_expression == 'send_segment' %}
    group by send_segment
    {%- endif %}
    {% if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

rates as (

    select
        offer_id,
        send_segment,
        -- sums over no rows (no sends at all) are null
        coalesce(treated_sends_count, 0) as treated_sends_count,
        coalesce(holdout_sends_count, 0) as holdout_sends_count,
        coalesce(treated_converted_count, 0) as treated_converted_count,
        coalesce(holdout_converted_count, 0) as holdout_converted_count,
        treated_revenue_variance,
        holdout_revenue_variance,
        coalesce(open_window_sends_count, 0) as open_window_sends_count,
        cast(treated_converted_count as {{ engine_type('double') }})
        / nullif(treated_sends_count, 0) as treated_conversion_rate,
        cast(holdout_converted_count as {{ engine_type('double') }})
        / nullif(holdout_sends_count, 0) as holdout_conversion_rate,
        cast(treated_revenue as {{ engine_type('double') }})
        / nullif(treated_sends_count, 0) as treated_revenue_per_send,
        cast(holdout_revenue as {{ engine_type('double') }})
        / nullif(holdout_sends_count, 0) as holdout_revenue_per_send,
        coalesce(
            treated_sends_count >= {{ min_sends }} and holdout_sends_count >= {{ min_sends }}, false
        ) as is_measurable

    from grouped

),

differences as (

    select
        *,
        treated_conversion_rate - holdout_conversion_rate as conversion_uplift,
        case
            when is_measurable then
                sqrt(
                    treated_conversion_rate * (1 - treated_conversion_rate) / treated_sends_count
                    + holdout_conversion_rate * (1 - holdout_conversion_rate) / holdout_sends_count
                )
        end as conversion_uplift_standard_error,
        treated_revenue_per_send - holdout_revenue_per_send as revenue_uplift_per_send,
        case
            when is_measurable then
                sqrt(
                    treated_revenue_variance / treated_sends_count
                    + holdout_revenue_variance / holdout_sends_count
                )
        end as revenue_uplift_standard_error

    from rates

),

final as (

    select
        offer_id,
        send_segment,
        {{ as_of_date() }} as as_of_date,
        {{ var('offer_measurement_window_days') }} as window_days,
        treated_sends_count,
        holdout_sends_count,
        open_window_sends_count,
        treated_converted_count,
        holdout_converted_count,
        treated_conversion_rate,
        holdout_conversion_rate,
        conversion_uplift,
        conversion_uplift - {{ z }} * conversion_uplift_standard_error as conversion_uplift_ci_low,
        conversion_uplift + {{ z }} * conversion_uplift_standard_error as conversion_uplift_ci_high,
        treated_revenue_per_send,
        holdout_revenue_per_send,
        revenue_uplift_per_send,
        revenue_uplift_per_send - {{ z }} * revenue_uplift_standard_error as revenue_uplift_ci_low,
        revenue_uplift_per_send + {{ z }} * revenue_uplift_standard_error as revenue_uplift_ci_high,
        conversion_uplift * treated_sends_count as incremental_conversions,
        revenue_uplift_per_send * treated_sends_count as incremental_revenue,
        is_measurable,
        case
            when is_measurable
                then
                    conversion_uplift - {{ z }} * conversion_uplift_standard_error > 0
                    or conversion_uplift + {{ z }} * conversion_uplift_standard_error < 0
        end as is_conversion_uplift_significant

    from differences

)

select
    offer_id,
    send_segment,
    as_of_date,
    window_days,
    treated_sends_count,
    holdout_sends_count,
    open_window_sends_count,
    treated_converted_count,
    holdout_converted_count,
    treated_conversion_rate,
    holdout_conversion_rate,
    conversion_uplift,
    conversion_uplift_ci_low,
    conversion_uplift_ci_high,
    treated_revenue_per_send,
    holdout_revenue_per_send,
    revenue_uplift_per_send,
    revenue_uplift_ci_low,
    revenue_uplift_ci_high,
    incremental_conversions,
    incremental_revenue,
    is_measurable,
    is_conversion_uplift_significant

from final
