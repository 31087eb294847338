-- The customer marts reconcile with the order book: net revenue summed over dim_customers equals
-- the identified customers' net revenue in fct_revenue_reconciliation, and customers plus guests
-- equal all staged orders up to as_of_date (computed here from staging directly).

with

customers as (

    select sum(net_revenue) as net_revenue from {{ ref('dim_customers') }}

),

reconciliation as (

    select
        sum(customer_net_revenue) as customer_net_revenue,
        sum(customer_net_revenue + guest_net_revenue) as all_net_revenue

    from {{ ref('fct_revenue_reconciliation') }}

),

staged as (

    select
        sum(case
            when is_cancelled then 0
            when amount < 0 then amount
            when is_fully_returned then 0
            else amount
        end) as net_revenue

    from {{ ref('stg_shop__orders') }}

    where order_date <= {{ as_of_date() }}

)

select
    customers.net_revenue as dim_customers_net_revenue,
    reconciliation.customer_net_revenue,
    reconciliation.all_net_revenue,
    staged.net_revenue as staged_net_revenue

from customers

cross join reconciliation

cross join staged

where abs(coalesce(customers.net_revenue, 0) - coalesce(reconciliation.customer_net_revenue, 0)) > 0.01
    or abs(coalesce(reconciliation.all_net_revenue, 0) - coalesce(staged.net_revenue, 0)) > 0.01
