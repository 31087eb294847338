-- Every customer measure as of each score date (int_score_dates: as_of_date and the start of the
-- migration window), from the customer-day aggregates up to that date only, so that any past date
-- can be rescored. Grain: customer × score date, one row per customer who had any order by then.
-- Purchase, repeat, recency, frequency, monetary, intervals and the rhythm that lifecycle reads are
-- defined here and nowhere else; scores, segments, lifecycle and tiers are built on top.
--
-- Reuses its previous build (previous_build; docs/decisions.md): a customer's measures as of a
-- date depend only on their days up to it, except recency_days and tenure_days, which count days
-- to it. So each score date is paired with the nearest date of the previous build, and a customer
-- is measured again only when one of their days changed since (changed_customer_days, old and new
-- values alike) or lies between the two dates; every other customer keeps the previous row, moved
-- to the new date with recency and tenure counted again.

-- depends_on: {{ ref('base_shop__orders_checked') }}
-- depends_on: {{ ref('int_orders_measured') }}

{{ config(
    post_hook={'sql': "{{ check_customers_present(this) }}", 'transaction': false},
    meta={'reuses_previous_build': true}
) }}

{%- set previous = previous_build(this) %}

with

score_dates as (

    select * from {{ ref('int_score_dates') }}

),

{% if previous is not none %}
-- read twice (the customers to measure again, and their days): scanned where it is read
all_customer_days as {{ not_materialized() }} (

    select * from {{ ref('int_customer_days_aggregated') }}

),

-- each score date with the nearest score date of the previous build (none: the earliest date)
paired_dates as (

    select
        score_date,
        coalesce(previous_score_date, cast('1900-01-01' as date)) as previous_score_date

    from (

        select
            score_dates.score_date,
            previous_dates.previous_score_date,
            row_number() over (
                partition by score_dates.score_date
                order by
                    abs({{ dbt.datediff('previous_dates.previous_score_date', 'score_dates.score_date', 'day') }}),
                    previous_dates.previous_score_date
            ) as nearness

        from score_dates

        left join (select distinct score_date as previous_score_date from {{ previous }}) as previous_dates
            on 1 = 1

    ) as candidates

    where nearness = 1

),

-- the customers whose days up to a score date can differ from the previous build's
remeasured_customers as (

    select customer_id
    from ({{ changed_customer_days(previous) }}) as changed_days

    union

    select all_customer_days.customer_id

    from all_customer_days

    inner join paired_dates
        on all_customer_days.order_date > least(paired_dates.previous_score_date, paired_dates.score_date)
        and all_customer_days.order_date <= greatest(paired_dates.previous_score_date, paired_dates.score_date)

),

-- read twice (period totals and rhythm)
customer_days as (

    select all_customer_days.*

    from all_customer_days

    inner join remeasured_customers
        on all_customer_days.customer_id = remeasured_customers.customer_id

),
{% else %}
-- read twice (period totals and rhythm): scanned where it is read, not copied into a buffer first
customer_days as {{ not_materialized() }} (

    select * from {{ ref('int_customer_days_aggregated') }}

),
{% endif %}

-- the customer-day history joined to every score date it counts for (rhythm reads it)
days_in_scope as (

    select
        score_dates.score_date,
        customer_days.*

    from customer_days

    inner join score_dates
        on customer_days.order_date <= score_dates.score_date

),

-- The totals are summed once per period between consecutive score dates (after the previous one,
-- up to and including this one), then the periods up to each score date are added up: every
-- customer-day is aggregated once, not once per score date that it precedes.
periods as (

    select
        score_date as period_end_date,
        lag(score_date) over (order by score_date) as previous_score_date

    from score_dates

),

{% set customer_period = {'customer_id': 'customer_days.customer_id', 'period_end_date': 'periods.period_end_date'} -%}
period_totals as (

    select
        periods.period_end_date,
        customer_days.customer_id,
        min(customer_days.first_purchase_at) as first_order_at,
        max(customer_days.last_purchase_at) as last_order_at,
        min(case when customer_days.purchase_orders_count > 0 then customer_days.order_date end)
            as first_purchase_date,
        max(case when customer_days.purchase_orders_count > 0 then customer_days.order_date end)
            as last_purchase_date,
        {{ sum_count('customer_days.purchase_orders_count') }} as orders_count,
        count(case when customer_days.purchase_orders_count > 0 then 1 end) as purchase_days_count,
        {{ sum_count('customer_days.return_documents_count') }} as returns_count,
        {{ sum_money('customer_days.gross_amount', customer_period) }} as gross_revenue,
        {{ sum_money('customer_days.return_amount', customer_period) }} as returns_amount,
        {{ sum_money('customer_days.net_amount', customer_period) }} as net_revenue,
        {{ sum_money('customer_days.discount_amount', customer_period) }} as discount_amount,
        {{ sum_count('customer_days.discounted_orders_count') }} as discounted_orders_count,
        {{ sum_count('customer_days.discount_known_orders_count') }} as discount_known_orders_count,
        {{ sum_money('customer_days.cost_amount', customer_period) }} as cost_amount,
        {{ sum_money('customer_days.margin_amount', customer_period) }} as margin_amount,
        {{ sum_count('customer_days.costed_orders_count') }} as costed_orders_count,
        {{ sum_count('customer_days.orders_count') }} as documents_count

    from customer_days

    inner join periods
        on customer_days.order_date <= periods.period_end_date
        and (periods.previous_score_date is null or customer_days.order_date > periods.previous_score_date)

    group by periods.period_end_date, customer_days.customer_id

),

{% set customer = {'customer_id': 'period_totals.customer_id', 'score_date': 'score_dates.score_date'} -%}
totals as (

    select
        score_dates.score_date,
        period_totals.customer_id,
        min(period_totals.first_order_at) as first_order_at,
        max(period_totals.last_order_at) as last_order_at,
        min(period_totals.first_purchase_date) as first_purchase_date,
        max(period_totals.last_purchase_date) as last_purchase_date,
        {{ sum_count('period_totals.orders_count') }} as orders_count,
        {{ sum_count('period_totals.purchase_days_count') }} as purchase_days_count,
        {{ sum_count('period_totals.returns_count') }} as returns_count,
        {{ sum_money('period_totals.gross_revenue', customer) }} as gross_revenue,
        {{ sum_money('period_totals.returns_amount', customer) }} as returns_amount,
        {{ sum_money('period_totals.net_revenue', customer) }} as net_revenue,
        {{ sum_money('period_totals.discount_amount', customer) }} as discount_amount,
        {{ sum_count('period_totals.discounted_orders_count') }} as discounted_orders_count,
        {{ sum_count('period_totals.discount_known_orders_count') }} as discount_known_orders_count,
        {{ sum_money('period_totals.cost_amount', customer) }} as cost_amount,
        {{ sum_money('period_totals.margin_amount', customer) }} as margin_amount,
        {{ sum_count('period_totals.costed_orders_count') }} as costed_orders_count,
        {{ sum_count('period_totals.documents_count') }} as documents_count

    from period_totals

    inner join score_dates
        on period_totals.period_end_date <= score_dates.score_date

    group by score_dates.score_date, period_totals.customer_id

),

{% set in_recent_window -%}
    days_in_scope.order_date
    > {{ dbt.dateadd('day', -1 * var('lifecycle_check_window_days'), 'totals.last_purchase_date') }}
{%- endset %}
rhythm as (

    -- the purchase day before the last one, and the average check in the customer's recent window
    -- (lifecycle_check_window_days before their last purchase) against the one before it
    select
        totals.score_date,
        totals.customer_id,
        max(case
            when
                days_in_scope.purchase_orders_count > 0
                and days_in_scope.order_date < totals.last_purchase_date
                then days_in_scope.order_date
        end) as previous_purchase_date,
        {{ sum_money('case when ' ~ in_recent_window ~ ' then days_in_scope.gross_amount else 0 end',
            {'customer_id': 'totals.customer_id', 'score_date': 'totals.score_date'}) }}
            as recent_gross_amount,
        {{ sum_count('case when ' ~ in_recent_window ~ ' then days_in_scope.purchase_orders_count else 0 end') }}
            as recent_orders_count

    from totals

    inner join days_in_scope
        on totals.score_date = days_in_scope.score_date
        and totals.customer_id = days_in_scope.customer_id

    group by totals.score_date, totals.customer_id

),

measured as (

    select
        totals.score_date,
        totals.customer_id,
        totals.first_order_at,
        totals.last_order_at,
        totals.first_purchase_date,
        totals.last_purchase_date,
        rhythm.previous_purchase_date,
        totals.orders_count,
        totals.purchase_days_count,
        totals.returns_count,
        totals.gross_revenue,
        totals.returns_amount,
        totals.net_revenue,
        totals.discount_amount,
        totals.orders_count > 0 as has_purchased,
        -- a repeat customer bought on two or more days: a second order on the same day is the
        -- same visit (the same rule as intervals, lifecycle and fct_kpis_monthly)
        totals.purchase_days_count >= 2 as is_repeat_customer,
        {{ divide_money('totals.gross_revenue', 'totals.orders_count') }} as avg_order_value,
        cast(
            {{ dbt.datediff('totals.last_purchase_date', 'totals.score_date', 'day') }}
            as integer
        ) as recency_days,
        cast(
            {{ dbt.datediff('totals.first_purchase_date', 'totals.score_date', 'day') }}
            as integer
        ) as tenure_days,
        case
            when totals.purchase_days_count > 1
                then
                    {{ days_double('totals.first_purchase_date', 'totals.last_purchase_date') }}
                    / (totals.purchase_days_count - 1)
        end as avg_days_between_orders,
        {{ dbt.datediff('rhythm.previous_purchase_date', 'totals.last_purchase_date', 'day') }}
            as last_gap_days,
        case
            when totals.purchase_days_count > 2
                then
                    {{ days_double('totals.first_purchase_date', 'rhythm.previous_purchase_date') }}
                    / (totals.purchase_days_count - 2)
        end as avg_days_between_orders_before_last,
        {{ divide_money('rhythm.recent_gross_amount', 'rhythm.recent_orders_count') }}
            as recent_avg_order_value,
        {{ divide_money(
            'totals.gross_revenue - rhythm.recent_gross_amount',
            'totals.orders_count - rhythm.recent_orders_count'
        ) }}
            as earlier_avg_order_value,
        case
            when totals.discount_known_orders_count > 0
                then
                    cast(totals.discounted_orders_count as {{ engine_type('double') }})
                    / totals.discount_known_orders_count
        end as discounted_orders_share,
        case when totals.costed_orders_count > 0 then totals.margin_amount end as margin_amount,
        case
            when totals.documents_count > 0
                then cast(totals.costed_orders_count as {{ engine_type('double') }}) / totals.documents_count
        end as margin_coverage_share

    from totals

    inner join rhythm
        on totals.score_date = rhythm.score_date
        and totals.customer_id = rhythm.customer_id

),

{% set fact_columns = [
    'score_date', 'customer_id', 'first_order_at', 'last_order_at', 'first_purchase_date', 'last_purchase_date',
    'previous_purchase_date', 'orders_count', 'purchase_days_count', 'returns_count', 'gross_revenue',
    'returns_amount', 'net_revenue', 'discount_amount', 'has_purchased', 'is_repeat_customer',
    'avg_order_value', 'recency_days', 'tenure_days', 'avg_days_between_orders', 'last_gap_days',
    'avg_days_between_orders_before_last', 'recent_avg_order_value', 'earlier_avg_order_value',
    'discounted_orders_share', 'margin_amount', 'margin_coverage_share',
] -%}
{% if previous is not none -%}
{#- the previous rows of every customer not measured again, at the paired score date: only the
    counts of days to the date change, by the formulas of `measured` -#}
{% set moved_to_date = {
    'score_date': 'paired_dates.score_date',
    'recency_days': 'cast(' ~ dbt.datediff('previous_facts.last_purchase_date', 'paired_dates.score_date', 'day') ~ ' as integer)',
    'tenure_days': 'cast(' ~ dbt.datediff('previous_facts.first_purchase_date', 'paired_dates.score_date', 'day') ~ ' as integer)',
} -%}
kept as (

    select
        {%- for column in fact_columns %}
        {{ moved_to_date.get(column, 'previous_facts.' ~ column) }} as {{ column }},
        {%- endfor %}
        {{ batch_loaded_at() }} as batch_loaded_at

    from {{ previous }} as previous_facts

    inner join paired_dates
        on previous_facts.score_date = paired_dates.previous_score_date

    left join remeasured_customers
        on previous_facts.customer_id = remeasured_customers.customer_id

    where remeasured_customers.customer_id is null

),
{%- endif %}

final as (

    select
        {%- for column in fact_columns %}
        measured.{{ column }},
        {%- endfor %}
        {{ batch_loaded_at() }} as batch_loaded_at

    from measured
    {%- if previous is not none %}

    union all

    select * from kept
    {%- endif %}

)

select * from final
