-- The dates customers are scored as of: as_of_date and as_of_date minus migration_period_days
-- (the start of the segment-migration window).

with

score_dates as (

    select
        {{ as_of_date() }} as score_date,
        true as is_current

    union all

    select
        {{ dbt.dateadd('day', -1 * var('migration_period_days'), as_of_date()) }} as score_date,
        false as is_current

)

select
    cast(score_date as date) as score_date,
    is_current

from score_dates
