-- The headline numbers as of as_of_date, one row: the customer base, repeat behaviour, LTV, margin
-- and the Pareto share (articles: best-customers-without-discounts, "15-25% of customers bring at
-- least 60% of revenue"). The same customers (int_customers_segmented, which dim_customers
-- publishes) and customer-months (int_customer_months_aggregated) as fct_kpis_monthly, with the
-- definitions of int_customer_facts_snapshotted: a repeat customer bought on two or more days, and
-- the mean interval is over all gaps between purchase days.

with

customers as (

    select * from {{ ref('int_customers_segmented') }}

),

ranked as (

    select
        *,
        row_number() over (order by net_revenue desc, customer_id asc) as revenue_rank,
        count(*) over () as base_count

    from customers

    where orders_count > 0

),

summary as (

    select
        count(*) as customers_count,
        count(case when is_repeat_customer then 1 end) as repeat_customers_count,
        {{ sum_count('orders_count') }} as orders_count,
        {{ sum_money('net_revenue') }} as net_revenue,
        {{ sum_money(
            'case when revenue_rank <= ' ~ var('pareto_top_share') ~ ' * base_count then net_revenue else 0 end'
        ) }}
            as top_customers_net_revenue,
        -- all gaps between consecutive purchase days, pooled: (last - first) / (days - 1) per
        -- customer, weighted by the customer's number of gaps
        {{ sum_count(
            'case when is_repeat_customer then '
            ~ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') ~ ' end'
        ) }} as days_between_purchases,
        {{ sum_count('case when is_repeat_customer then purchase_days_count - 1 end') }}
            as purchase_gaps_count,
        {{ avg_as_double('net_revenue') }} as avg_ltv,
        {{ sum_money('margin_amount') }} as margin_amount,
        count(case when lifecycle_status = 'active' then 1 end) as active_customers_count,
        count(case when lifecycle_status = 'churn_risk' then 1 end) as churn_risk_customers_count,
        count(case when lifecycle_status = 'churned' then 1 end) as churned_customers_count

    from ranked

),

repeat_revenue as (

    -- net revenue of repeat purchase days, over all months, of the customers counted above
    select {{ sum_money('customer_months.repeat_net_revenue') }} as repeat_net_revenue

    from {{ ref('int_customer_months_aggregated') }} as customer_months

    inner join ranked
        on customer_months.customer_id = ranked.customer_id

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        summary.customers_count,
        summary.repeat_customers_count,
        cast(summary.repeat_customers_count as {{ engine_type('double') }})
        / nullif(summary.customers_count, 0) as repeat_customer_rate,
        summary.orders_count,
        summary.net_revenue,
        cast({{ var('pareto_top_share') }} as {{ engine_type('double') }}) as pareto_top_share,
        cast(summary.top_customers_net_revenue as {{ engine_type('double') }})
        / nullif(summary.net_revenue, 0) as top_customers_revenue_share,
        cast(repeat_revenue.repeat_net_revenue as {{ engine_type('double') }})
        / nullif(summary.net_revenue, 0) as repeat_revenue_share,
        cast(summary.days_between_purchases as {{ engine_type('double') }})
        / nullif(summary.purchase_gaps_count, 0) as avg_days_between_purchases,
        summary.avg_ltv,
        summary.margin_amount,
        summary.active_customers_count,
        summary.churn_risk_customers_count,
        summary.churned_customers_count

    from summary

    cross join repeat_revenue

)

select
    as_of_date,
    customers_count,
    repeat_customers_count,
    repeat_customer_rate,
    orders_count,
    net_revenue,
    pareto_top_share,
    top_customers_revenue_share,
    repeat_revenue_share,
    avg_days_between_purchases,
    avg_ltv,
    margin_amount,
    active_customers_count,
    churn_risk_customers_count,
    churned_customers_count

from final
