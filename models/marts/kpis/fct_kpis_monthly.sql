-- KPIs by calendar month and RFM segment (the customer's segment as of as_of_date), plus an
-- 'All customers' row per month. Articles (four-segmentation-methods): repeat rate, share of revenue
-- from repeat purchases, mean interval between purchases, LTV and margin.
--   repeat_rate             buyers of the month who had bought on an earlier day / buyers of the month
--   repeat_revenue_share    net revenue of repeat purchase days / net revenue of the month
--   avg_days_between_purchases  mean gap to the previous purchase day, over the month's repeat days
--   avg_ltv                 cumulative net revenue to the month's end / customers acquired by then

with

customer_days as (

    select * from {{ ref('int_customer_days_aggregated') }}
    where order_date <= {{ as_of_date() }}

),

customers as (

    select * from {{ ref('dim_customers') }}

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

segmented as (

    select
        sequenced.*,
        customers.rfm_segment,
        customers.first_purchase_date

    from sequenced

    inner join customers
        on sequenced.customer_id = customers.customer_id

    where customers.rfm_segment is not null

),

with_total as (

    -- every day once under its segment and once under 'All customers'
    select * from segmented
    union all
    select
        customer_id,
        order_date,
        purchase_orders_count,
        net_amount,
        margin_amount,
        month_start_date,
        previous_purchase_date,
        'All customers' as rfm_segment,
        first_purchase_date
    from segmented

),

combined as (

    select
        cast(month_start_date as date) as month_start_date,
        rfm_segment,
        count(distinct case when purchase_orders_count > 0 then customer_id end) as buyers_count,
        count(distinct case when previous_purchase_date is not null then customer_id end) as repeat_buyers_count,
        sum(purchase_orders_count) as orders_count,
        sum(net_amount) as net_revenue,
        sum(case when previous_purchase_date is not null then net_amount else 0 end) as repeat_net_revenue,
        avg({{ dbt.datediff('previous_purchase_date', 'order_date', 'day') }}) as avg_days_between_purchases,
        sum(margin_amount) as margin_amount,
        count(distinct case
            when {{ dbt.date_trunc('month', 'first_purchase_date') }} = month_start_date then customer_id
        end) as new_customers_count

    from with_total

    group by month_start_date, rfm_segment

),

cumulative as (

    select
        *,
        sum(net_revenue) over (
            partition by rfm_segment order by month_start_date rows between unbounded preceding and current row
        ) as cumulative_net_revenue,
        sum(new_customers_count) over (
            partition by rfm_segment order by month_start_date rows between unbounded preceding and current row
        ) as cumulative_customers_count

    from combined

),

final as (

    select
        month_start_date,
        rfm_segment,
        buyers_count,
        repeat_buyers_count,
        new_customers_count,
        orders_count,
        net_revenue,
        repeat_net_revenue,
        case when buyers_count > 0 then 1.0 * repeat_buyers_count / buyers_count end as repeat_rate,
        case when net_revenue <> 0 then 1.0 * repeat_net_revenue / net_revenue end as repeat_revenue_share,
        avg_days_between_purchases,
        case
            when cumulative_customers_count > 0
                then cumulative_net_revenue / cumulative_customers_count
        end as avg_ltv,
        margin_amount

    from cumulative

)

{{ select_contract_columns('final') }}
