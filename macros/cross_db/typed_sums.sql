{#- Sums with a fixed result type. A plain sum widens: on DuckDB sum(integer) is a 128-bit
    HUGEINT and sum(decimal(18, 4)) a decimal(38, 4), and every later aggregate over those wide
    types runs about ten times slower than over 64-bit ones. Counts fit a bigint and money fits
    money_type() at any realistic volume, so the sums are cast back where they are taken. -#}
{% macro sum_count(expression) -%}
    cast(sum({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro sum_money(expression) -%}
    cast(sum({{ expression }}) as {{ money_type() }})
{%- endmacro %}
