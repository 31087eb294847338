-- KPIs by calendar month and RFM segment (the customer's segment as of as_of_date), plus an
-- 'All customers' row per month, from the customer-months of int_customer_months_aggregated. A
-- repeat buyer of a month bought in it on a day after an earlier purchase day (the repeat rule of
-- int_customer_facts_snapshotted, month by month). Articles (four-segmentation-methods): repeat
-- rate, share of revenue from repeat purchases, mean interval between purchases, LTV and margin.
--   repeat_rate             buyers of the month who had bought on an earlier day / buyers of the month
--   repeat_revenue_share    net revenue of repeat purchase days / net revenue of the month
--   avg_days_between_purchases  mean gap to the previous purchase day, over the month's repeat days
--   avg_ltv                 cumulative net revenue to the month's end / customers acquired by then

with

customer_months as (

    select * from {{ ref('int_customer_months_aggregated') }}

),

customers as (

    select * from {{ ref('int_customers_segmented') }}

),

{% set segment_month = {'rfm_segment': 'customers.rfm_segment', 'month': 'customer_months.month_start_date'} -%}
by_segment as (

    -- a customer has one segment (as of as_of_date), so counts of customers add up across segments
    select
        customer_months.month_start_date,
        customers.rfm_segment,
        {{ sum_count('customer_months.is_buyer') }} as buyers_count,
        {{ sum_count('customer_months.is_repeat_buyer') }} as repeat_buyers_count,
        count(case
            when {{ dbt.date_trunc('month', 'customers.first_purchase_date') }} = customer_months.month_start_date
                then 1
        end) as new_customers_count,
        {{ sum_count('customer_months.orders_count') }} as orders_count,
        {{ sum_money('customer_months.net_revenue', segment_month) }} as net_revenue,
        {{ sum_money('customer_months.repeat_net_revenue', segment_month) }} as repeat_net_revenue,
        {{ sum_count('customer_months.days_between_purchases') }} as days_between_purchases,
        {{ sum_count('customer_months.repeat_purchase_days_count') }} as repeat_purchase_days_count,
        {{ sum_money('customer_months.margin_amount', segment_month) }} as margin_amount

    from customer_months

    inner join customers
        on customer_months.customer_id = customers.customer_id

    where customers.rfm_segment is not null

    group by customer_months.month_start_date, customers.rfm_segment

),

all_customers as (

    select
        month_start_date,
        'All customers' as rfm_segment,
        {{ sum_count('buyers_count') }} as buyers_count,
        {{ sum_count('repeat_buyers_count') }} as repeat_buyers_count,
        {{ sum_count('new_customers_count') }} as new_customers_count,
        {{ sum_count('orders_count') }} as orders_count,
        {{ sum_money('net_revenue', ['month_start_date']) }} as net_revenue,
        {{ sum_money('repeat_net_revenue', ['month_start_date']) }} as repeat_net_revenue,
        {{ sum_count('days_between_purchases') }} as days_between_purchases,
        {{ sum_count('repeat_purchase_days_count') }} as repeat_purchase_days_count,
        {{ sum_money('margin_amount', ['month_start_date']) }} as margin_amount

    from by_segment

    group by month_start_date

),

combined as (

    select * from by_segment
    union all
    select * from all_customers

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
        days_between_purchases,
        repeat_purchase_days_count,
        case when buyers_count > 0 then cast(repeat_buyers_count as {{ engine_type('double') }}) / buyers_count end
            as repeat_rate,
        case when net_revenue <> 0 then cast(repeat_net_revenue as {{ engine_type('double') }}) / net_revenue end
            as repeat_revenue_share,
        cast(days_between_purchases as {{ engine_type('double') }})
        / nullif(repeat_purchase_days_count, 0) as avg_days_between_purchases,
        case
            when cumulative_customers_count > 0
                then cast(cumulative_net_revenue as {{ engine_type('double') }}) / cumulative_customers_count
        end as avg_ltv,
        margin_amount

    from cumulative

)

select
    month_start_date,
    rfm_segment,
    buyers_count,
    repeat_buyers_count,
    new_customers_count,
    orders_count,
    net_revenue,
    repeat_net_revenue,
    repeat_rate,
    repeat_revenue_share,
    days_between_purchases,
    repeat_purchase_days_count,
    avg_days_between_purchases,
    avg_ltv,
    margin_amount

from final
