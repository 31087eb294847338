-- Revenue by month up to as_of_date, split into customer and guest orders, so that the customer
-- marts can be reconciled with the books: customer_net_revenue summed over months equals the sum of
-- dim_customers.net_revenue (a test checks it), and guest revenue is visible beside it.

with

orders as (

    select * from {{ ref('int_orders_measured') }}
    where order_date <= {{ as_of_date() }}

),

{% set month = {'month': 'cast(' ~ dbt.date_trunc('month', 'order_date') ~ ' as date)'} -%}
monthly as (

    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start_date,
        {{ sum_count('case when not is_cancelled then 1 else 0 end') }} as documents_count,
        {{ sum_count('case when is_cancelled then 1 else 0 end') }} as cancelled_orders_count,
        {{ sum_money('gross_amount', month) }} as gross_revenue,
        {{ sum_money('return_amount', month) }} as returns_amount,
        {{ sum_money('net_amount', month) }} as net_revenue,
        {{ sum_money('case when is_guest then net_amount else 0 end', month) }} as guest_net_revenue,
        {{ sum_money('case when not is_guest then net_amount else 0 end', month) }} as customer_net_revenue,
        {{ sum_count('case when is_guest and is_purchase_order then 1 else 0 end') }} as guest_orders_count,
        {{ sum_count('case when not is_guest and is_purchase_order then 1 else 0 end') }} as customer_orders_count

    from orders

    group by {{ dbt.date_trunc('month', 'order_date') }}

)

select
    month_start_date,
    documents_count,
    cancelled_orders_count,
    gross_revenue,
    returns_amount,
    net_revenue,
    guest_net_revenue,
    customer_net_revenue,
    guest_orders_count,
    customer_orders_count

from monthly
