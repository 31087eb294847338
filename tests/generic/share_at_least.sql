{#-
    The segment-size guard. Groups the model by column_name and fails for every value whose share
    of all rows is below min_share (a number in (0, 1]; a value exactly at min_share passes).
    Values in exclude_values (an "unassigned" bucket, say) still count in the denominator but are
    never reported. Null is a value like any other; filter it out with the `where` config.
    Articles: no segment under 2-5% of the base (four-segmentation-methods.ru.txt).
-#}
{% test share_at_least(model, column_name, min_share, exclude_values=none, quote_values=true) %}

{%- set share_text = min_share | string | trim -%}
{%- if min_share is boolean or not modules.re.fullmatch('[0-9]*[.]?[0-9]+([eE]-?[0-9]+)?', share_text) -%}
    {{ exceptions.raise_compiler_error("share_at_least: min_share must be a number in (0, 1], got " ~ min_share) }}
{%- endif -%}
{%- set share = share_text | float -%}
{%- if share <= 0 or share > 1 -%}
    {{ exceptions.raise_compiler_error("share_at_least: min_share must be a number in (0, 1], got " ~ min_share) }}
{%- endif -%}
{%- set excluded = exclude_values if exclude_values is not none else [] -%}
{%- if excluded is string or excluded is mapping or excluded is not iterable -%}
    {{ exceptions.raise_compiler_error("share_at_least: exclude_values must be a list, got " ~ exclude_values) }}
{%- endif -%}
{%- if quote_values is not boolean -%}
    {{ exceptions.raise_compiler_error("share_at_least: quote_values must be true or false, got " ~ quote_values) }}
{%- endif %}

with

value_counts as (

    select
        {{ column_name }} as value,
        count(*) as rows_count

    from {{ model }}

    group by {{ column_name }}

),

value_shares as (

    select
        value,
        rows_count,
        cast(rows_count as {{ dbt.type_float() }}) / sum(rows_count) over () as row_share

    from value_counts

),

undersized as (

    select *

    from value_shares

    where
        row_share < {{ share }}
        {%- if excluded | length > 0 %}
        and (
            value is null
            or value not in (
                {%- for excluded_value in excluded %}
                {% if quote_values -%}
                    '{{ dbt.escape_single_quotes(excluded_value | string) }}'
                {%- else -%}
                    {{ excluded_value }}
                {%- endif -%}
                {{ ',' if not loop.last }}
                {%- endfor %}
            )
        )
        {%- endif %}

)

select * from undersized

{% endtest %}
