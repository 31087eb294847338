-- The headline numbers as of as_of_date, one row: the customer base, repeat behaviour, LTV, margin
-- and the Pareto share (articles: best-customers-without-discounts, "15-25% of customers bring at
-- least 60% of revenue").

with

customers as (

    select * from {{ ref('dim_customers') }}

),

ranked as (

    select
        *,
        row_number() over (order by net_revenue desc, customer_id asc) as revenue_rank,
        count(*) over () as customers_count

    from customers

    where orders_count > 0

),

summary as (

    select
        count(*) as customers_count,
        sum(case when orders_count >= 2 then 1 else 0 end) as repeat_customers_count,
        sum(orders_count) as orders_count,
        {{ sum_money('net_revenue') }} as net_revenue,
        {{ sum_money(
            'case when revenue_rank <= ' ~ var('pareto_top_share') ~ ' * customers_count then net_revenue else 0 end'
        ) }}
            as top_customers_net_revenue,
        avg(avg_days_between_orders) as avg_days_between_orders,
        {{ avg_as_double('net_revenue') }} as avg_ltv,
        {{ sum_money('margin_amount') }} as margin_amount,
        sum(case when lifecycle_status = 'active' then 1 else 0 end) as active_customers_count,
        sum(case when lifecycle_status = 'at_risk' then 1 else 0 end) as at_risk_customers_count,
        sum(case when lifecycle_status = 'churned' then 1 else 0 end) as churned_customers_count

    from ranked

),

repeat_revenue as (

    select
        {{ sum_money('repeat_net_revenue') }} as repeat_net_revenue,
        {{ sum_money('net_revenue') }} as net_revenue

    from {{ ref('fct_kpis_monthly') }}

    where rfm_segment = 'All customers'

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
        {{ var('pareto_top_share') }} as pareto_top_share,
        cast(summary.top_customers_net_revenue as {{ engine_type('double') }})
        / nullif(summary.net_revenue, 0) as top_customers_revenue_share,
        cast(repeat_revenue.repeat_net_revenue as {{ engine_type('double') }})
        / nullif(repeat_revenue.net_revenue, 0) as repeat_revenue_share,
        summary.avg_days_between_orders,
        summary.avg_ltv,
        summary.margin_amount,
        summary.active_customers_count,
        summary.at_risk_customers_count,
        summary.churned_customers_count

    from summary

    cross join repeat_revenue

)

{{ select_contract_columns('final') }}
