{#- A money amount divided by a positive count, rounded half away from zero to the 4 decimals of
    money_type(), exactly and identically on every engine; null when the count is not positive.
    A plain `/` gives a double on DuckDB and a long decimal on PostgreSQL and Spark, whose last digit
    (and, once cast back to money, the rounding) differ: here the amount is taken in units of
    0.0001 as an integer and divided with integer division. -#}
{% macro divide_money(amount, count) -%}
    {%- set units = 'cast((' ~ amount ~ ') * 10000 as bigint)' -%}
    {%- set divisor = 'cast(' ~ count ~ ' as bigint)' -%}
    case
        when {{ divisor }} > 0 then cast(
            cast(
                (case when {{ units }} < 0 then -1 else 1 end)
                * {{ integer_divide('2 * abs(' ~ units ~ ') + ' ~ divisor, '2 * ' ~ divisor) }}
                as decimal(18, 0)
            ) * 0.0001 as {{ money_type() }}
        )
    end
{%- endmacro %}


{#- Integer division of two integers (truncated). -#}
{% macro integer_divide(dividend, divisor) %}
    {{ return(adapter.dispatch('integer_divide', 'loyalty_segments')(dividend, divisor)) }}
{% endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) / ({{ divisor }}))
{%- endmacro %}

{% macro duckdb__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}
