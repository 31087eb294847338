-- The dates customers are measured and scored as of: as_of_date and as_of_date minus
-- migration_period_days (the start of the segment-migration window). Consumers pick a date with
-- score_date = as_of_date(); nothing else marks "current".

with

score_dates as (

    select {{ as_of_date() }} as score_date

    union all

    select {{ dbt.dateadd('day', -1 * var('migration_period_days'), as_of_date()) }} as score_date

)

select cast(score_date as date) as score_date

from score_dates
