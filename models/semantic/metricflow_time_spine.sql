-- The day spine MetricFlow joins to for cumulative metrics and time granularities: one row per day
-- from min_valid_date (no accepted order is older) to as_of_date (no counted order is newer). The
-- days are numbered from cross joins of ten digits (five places: up to 100,000 days, 273 years),
-- the same SQL on every engine.

{%- set first_day = modules.datetime.date.fromisoformat(var('min_valid_date') | string) %}
{%- set last_day = modules.datetime.date.fromisoformat(as_of_date_value()) %}
{%- set days_count = (last_day - first_day).days + 1 %}
{%- if days_count < 1 or days_count > 100000 %}
    {{ exceptions.raise_compiler_error(
        "metricflow_time_spine: from min_valid_date " ~ first_day ~ " to as_of_date " ~ last_day
        ~ " is " ~ days_count ~ " days; the spine holds 1 to 100,000"
    ) }}
{%- endif %}

with

digits as (

    {%- for digit in range(10) %}
    select {{ digit }} as digit
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

day_numbers as (

    select
        ones.digit
        + tens.digit * 10
        + hundreds.digit * 100
        + thousands.digit * 1000
        + ten_thousands.digit * 10000 as day_number

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select cast({{ dbt.dateadd('day', 'day_number', "cast('" ~ first_day ~ "' as date)") }} as date) as date_day

    from day_numbers

    where day_number < {{ days_count }}

)

select date_day from days
