{#-
    Fails for every row whose column value lies outside [min_value, max_value] (or the open
    interval when inclusive is false). Either bound may be omitted; nulls pass (pair with
    not_null). Bounds are SQL expressions, so dates work: min_value: "cast('2020-01-01' as date)".
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range: give min_value, max_value or both") }}
{%- endif -%}
{%- if inclusive is not boolean -%}
    {{ exceptions.raise_compiler_error("accepted_range: inclusive must be true or false, got " ~ inclusive) }}
{%- endif -%}
{%- if min_value is number and max_value is number and min_value > max_value -%}
    {{ exceptions.raise_compiler_error(
        "accepted_range: min_value (" ~ min_value ~ ") is above max_value (" ~ max_value ~ ")") }}
{%- endif -%}

{%- set operator = '>=' if inclusive else '>' %}

with

out_of_range as (

    select *

    from {{ model }}

    where
        1 = 2
        {%- if min_value is not none %}
        or not {{ column_name }} {{ operator }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or not {{ max_value }} {{ operator }} {{ column_name }}
        {%- endif %}

)

select * from out_of_range

{% endtest %}
