-- One row per customer and calendar month with a purchase or a return up to as_of_date: the
-- additive pieces of every monthly KPI. A purchase day is a repeat purchase day when the customer
-- had bought on an earlier day (the repeat rule of int_customer_facts_snapshotted); its gap is the
-- days since that earlier purchase day. fct_kpis_monthly adds these up by month and segment,
-- fct_kpi_summary over all months.
--
-- Incremental: a run recomputes every month of the customers whose history up to as_of_date can
-- differ from what the table holds: those with a customer-day changed since the last run
-- (changed_customer_days, old and new values alike) and those with a day between the as_of_date
-- the table was computed as of and this run's (either way: a later date adds days, an earlier one
-- takes them away). A customer's months are replaced as a whole (unique_key customer_id), since a
-- changed day moves the repeat gaps of the days after it; a customer left without months keeps a
-- placeholder row (month_start_date null) that the post-hook drops.

-- depends_on: {{ ref('base_shop__orders_checked') }}
-- depends_on: {{ ref('int_orders_measured') }}

{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['customer_id'],
    on_schema_change='fail',
    post_hook="{{ delete_placeholder_rows(this, 'month_start_date is null') }}"
) }}

with

{% if is_incremental() %}
-- the as_of_date of the last run that wrote rows: the table holds every customer's months as of
-- that date (a customer with a day since then was recomputed); none yet: the earliest date
previous_run as (

    select coalesce(max(as_of_date), cast('1900-01-01' as date)) as as_of_date

    from {{ this }}

    where batch_loaded_at = {{ batch_watermark(this) }}

),

changed_customers as (

    select customer_id
    from ({{ changed_customer_days(this) }}) as changed_days

    union

    select customer_days.customer_id

    from {{ ref('int_customer_days_aggregated') }} as customer_days

    cross join previous_run

    where
        (customer_days.order_date > previous_run.as_of_date and customer_days.order_date <= {{ as_of_date() }})
        or (customer_days.order_date > {{ as_of_date() }} and customer_days.order_date <= previous_run.as_of_date)

),

customer_days as (

    select customer_days.*

    from {{ ref('int_customer_days_aggregated') }} as customer_days

    inner join changed_customers
        on customer_days.customer_id = changed_customers.customer_id

    where customer_days.order_date <= {{ as_of_date() }}

),
{% else %}
customer_days as (

    select * from {{ ref('int_customer_days_aggregated') }}
    where order_date <= {{ as_of_date() }}

),
{% endif %}

sequenced as (

    select
        customer_id,
        order_date,
        purchase_orders_count,
        net_amount,
        margin_amount,
        {{ dbt.date_trunc('month', 'customer_days.order_date') }} as month_start_date,
        case
            when purchase_orders_count > 0
                then max(case when purchase_orders_count > 0 then order_date end) over (
                    partition by customer_id
                    order by order_date
                    rows between unbounded preceding and 1 preceding
                )
        end as previous_purchase_date

    from customer_days

),

{% set customer_month = {'customer_id': 'customer_id', 'month': 'cast(month_start_date as date)'} -%}
aggregated as (

    select
        customer_id,
        cast(month_start_date as date) as month_start_date,
        max(case when purchase_orders_count > 0 then 1 else 0 end) as is_buyer,
        max(case when previous_purchase_date is not null then 1 else 0 end) as is_repeat_buyer,
        {{ sum_count('purchase_orders_count') }} as orders_count,
        {{ sum_money('net_amount', customer_month) }} as net_revenue,
        {{ sum_money('case when previous_purchase_date is not null then net_amount else 0 end', customer_month) }}
            as repeat_net_revenue,
        {{ sum_count(dbt.datediff('previous_purchase_date', 'order_date', 'day')) }} as days_between_purchases,
        count(previous_purchase_date) as repeat_purchase_days_count,
        {{ sum_money('margin_amount', customer_month) }} as margin_amount

    from sequenced

    group by customer_id, cast(month_start_date as date)

),

{% set customers = 'changed_customers' if is_incremental() else 'aggregated' -%}
final as (

    -- noqa: disable=RF03
    select
        {{ customers }}.customer_id,
        aggregated.month_start_date,
        aggregated.is_buyer,
        aggregated.is_repeat_buyer,
        aggregated.orders_count,
        aggregated.net_revenue,
        aggregated.repeat_net_revenue,
        aggregated.days_between_purchases,
        aggregated.repeat_purchase_days_count,
        aggregated.margin_amount,
        {{ as_of_date() }} as as_of_date,
        {{ batch_loaded_at() }} as batch_loaded_at

    -- on an incremental run a changed customer without months keeps a row (month_start_date null),
    -- so that delete+insert removes their old months
    from {{ customers }}

    {% if is_incremental() -%}
    left join aggregated
        on changed_customers.customer_id = aggregated.customer_id
    {%- endif %}
    -- noqa: enable=RF03

)

select * from final
