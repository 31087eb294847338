{#- The type of money amounts and quantities: 18 digits with 4 decimals. Wider decimals
    (dbt.type_numeric() is numeric(28,6)) need 128-bit arithmetic and parse about 40 times slower
    on DuckDB; 18 digits hold 99 trillion currency units. -#}
{% macro money_type() %}
    {{ return(adapter.dispatch('money_type', 'loyalty_segments')()) }}
{% endmacro %}

{% macro default__money_type() -%}
    decimal(18, 4)
{%- endmacro %}

{% macro postgres__money_type() -%}
    numeric(18, 4)
{%- endmacro %}
