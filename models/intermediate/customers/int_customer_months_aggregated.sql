-- One row per customer and calendar month with a purchase or a return up to as_of_date: the
-- additive pieces of every monthly KPI. A purchase day is a repeat purchase day when the customer
-- had bought on an earlier day (the repeat rule of int_customer_facts_snapshotted); its gap is the
-- days since that earlier purchase day. fct_kpis_monthly adds these up by month and segment,
-- fct_kpi_summary over all months.

with

customer_days as (

    select * from {{ ref('int_customer_days_aggregated') }}
    where order_date <= {{ as_of_date() }}

),

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
final as (

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

)

select * from final
