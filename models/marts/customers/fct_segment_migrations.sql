-- How customers moved between RFM segments from the start of the migration window
-- (as_of_date - migration_period_days) to as_of_date, both scored from order history alone.
-- One row per (segment at start, segment at end); customers who had not purchased by the start
-- come from '(not yet a customer)'.

with

scored as (

    select * from {{ ref('int_customer_rfm_scored') }}

),

at_end as (

    select
        customer_id,
        rfm_segment
    from scored
    where score_date = {{ as_of_date() }}

),

at_start as (

    select
        customer_id,
        rfm_segment
    from scored
    where score_date < {{ as_of_date() }}

),

moves as (

    select
        coalesce(at_start.rfm_segment, '(not yet a customer)') as from_segment,
        at_end.rfm_segment as to_segment

    from at_end

    left join at_start
        on at_end.customer_id = at_start.customer_id

),

counted as (

    select
        from_segment,
        to_segment,
        count(*) as customers_count

    from moves

    group by from_segment, to_segment

),

final as (

    select
        {{ as_of_date() }} as as_of_date,
        cast({{ var('migration_period_days') }} as integer) as period_days,
        from_segment,
        to_segment,
        from_segment = to_segment as is_unchanged,
        customers_count,
        cast(customers_count as {{ engine_type('double') }})
        / sum(customers_count) over (partition by from_segment) as share_of_from_segment

    from counted

)

select
    as_of_date,
    period_days,
    from_segment,
    to_segment,
    is_unchanged,
    customers_count,
    share_of_from_segment

from final
