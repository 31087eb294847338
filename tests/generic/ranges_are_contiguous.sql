{#-
    For half-open ranges [lower_bound, upper_bound) - the score thresholds in
    seeds/rfm_thresholds.csv, say - checks that the ranges of each partition tile the line without
    gaps or overlaps. Sorted by lower bound, every range must start where the previous one ends,
    end above where it starts, and only the first range may have no lower bound (null = unbounded)
    and only the last no upper bound. Fails with one row per offending range and a failure_reason.
    Whether the outer ends must be open is the model's business: test it with expression_is_true.
-#}
{% test ranges_are_contiguous(model, lower_bound_column, upper_bound_column, partition_by=none) %}

{%- if lower_bound_column is not string or upper_bound_column is not string -%}
    {{ exceptions.raise_compiler_error(
        "ranges_are_contiguous: lower_bound_column and upper_bound_column must be column names") }}
{%- endif -%}
{%- set partition_columns = [] if partition_by is none else ([partition_by] if partition_by is string else partition_by) -%}
{%- if partition_columns is mapping or partition_columns is not iterable -%}
    {{ exceptions.raise_compiler_error(
        "ranges_are_contiguous: partition_by must be a column name or a list of them, got " ~ partition_by) }}
{%- endif -%}

{%- set partition_clause = ('partition by ' ~ partition_columns | join(', ')) if partition_columns | length > 0 else '' -%}
{%- set order_clause = 'order by case when ' ~ lower_bound_column ~ ' is null then 0 else 1 end, '
    ~ lower_bound_column ~ ', ' ~ upper_bound_column %}

with

ranges as (

    select
        {% for partition_column in partition_columns -%}
        {{ partition_column }},
        {% endfor -%}
        {{ lower_bound_column }} as lower_bound,
        {{ upper_bound_column }} as upper_bound,
        row_number() over ({{ partition_clause }} {{ order_clause }}) as range_number,
        count(*) over ({{ partition_clause }}) as ranges_count,
        lag({{ upper_bound_column }}) over ({{ partition_clause }} {{ order_clause }}) as previous_upper_bound

    from {{ model }}

),

checked as (

    select
        *,
        case
            when range_number > 1 and lower_bound is null
                then 'only the first range may have no lower bound'
            when range_number < ranges_count and upper_bound is null
                then 'only the last range may have no upper bound'
            when lower_bound >= upper_bound
                then 'lower bound is not below the upper bound'
            when range_number > 1 and lower_bound > previous_upper_bound
                then 'gap after the previous range'
            when range_number > 1 and lower_bound < previous_upper_bound
                then 'overlaps the previous range'
        end as failure_reason

    from ranges

)

select * from checked

where failure_reason is not null

{% endtest %}
