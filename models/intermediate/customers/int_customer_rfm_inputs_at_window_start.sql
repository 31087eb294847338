-- The RFM inputs of every customer as of the start of the migration window (as_of_date -
-- migration_period_days), from the customer-day aggregates up to that date: only what scoring
-- needs, so that segment migration costs one light pass over the history.

with

customer_days as (

    select * from {{ ref('int_customer_days_aggregated') }}

),

score_dates as (

    select * from {{ ref('int_score_dates') }}
    where not is_current

),

totals as (

    select
        score_dates.score_date,
        customer_days.customer_id,
        max(case when customer_days.purchase_orders_count > 0 then customer_days.order_date end)
            as last_purchase_date,
        {{ sum_count('customer_days.purchase_orders_count') }} as orders_count,
        {{ sum_money('customer_days.net_amount',
            {'customer_id': 'customer_days.customer_id', 'score_date': 'score_dates.score_date'}) }} as net_revenue

    from customer_days

    inner join score_dates
        on customer_days.order_date <= score_dates.score_date

    group by score_dates.score_date, customer_days.customer_id

),

final as (

    select
        score_date,
        false as is_current,
        customer_id,
        orders_count > 0 as has_purchased,
        {{ dbt.datediff('last_purchase_date', 'score_date', 'day') }}
            as recency_days,
        orders_count,
        net_revenue

    from totals

)

select * from final
