{#-
    For a column holding a delimited list ('vip|regular'), fails for every row with an element
    that is not one of `values` (an empty element included). Null and '' mean an empty list and
    pass. Portable: removes each accepted element with replace() instead of splitting the string,
    so it runs on any engine; elements must not contain the delimiter.
-#}
{% test accepted_delimited_values(model, column_name, values, delimiter='|') %}

{%- if values is string or values is mapping or values is not iterable or values | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "accepted_delimited_values: values must be a non-empty list, got " ~ values) }}
{%- endif -%}
{%- if delimiter is not string or delimiter | length == 0 -%}
    {{ exceptions.raise_compiler_error("accepted_delimited_values: delimiter must be a non-empty string") }}
{%- endif -%}
{%- for value in values -%}
    {%- if delimiter in (value | string) -%}
        {{ exceptions.raise_compiler_error(
            "accepted_delimited_values: value '" ~ value ~ "' contains the delimiter '" ~ delimiter ~ "'") }}
    {%- endif -%}
{%- endfor -%}

{%- set quoted_delimiter = "'" ~ dbt.escape_single_quotes(delimiter) ~ "'" -%}
{%- set doubled_delimiter = "'" ~ dbt.escape_single_quotes(delimiter ~ delimiter) ~ "'" -%}
{#- 'a|b' becomes '|a||b|': every element sits between its own pair of delimiters, so removing
    each accepted '|value|' leaves '' exactly when all elements are accepted. -#}
{%- set state = namespace(remainder=dbt.concat([
    quoted_delimiter,
    dbt.replace(column_name, quoted_delimiter, doubled_delimiter),
    quoted_delimiter
])) -%}
{%- for value in values -%}
    {%- set wrapped = "'" ~ dbt.escape_single_quotes(delimiter ~ value ~ delimiter) ~ "'" -%}
    {%- set state.remainder = dbt.replace(state.remainder, wrapped, "''") -%}
{%- endfor %}

with

lists as (

    select
        *,
        {{ state.remainder }} as unaccepted_elements

    from {{ model }}

    where
        {{ column_name }} is not null
        and {{ column_name }} <> ''

)

select * from lists

where unaccepted_elements <> ''

{% endtest %}
