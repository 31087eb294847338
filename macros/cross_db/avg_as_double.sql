{#- The mean of a decimal column (money) as a double, the same on every engine: the exact mean
    rounded to the nearest double. DuckDB's avg of a decimal is that already (its sum divided in
    extended precision); Spark's is a decimal of 8 decimals, and a double cast from it differs from
    DuckDB's from the 12th significant digit on (engines/spark.sql). -#}
{% macro avg_as_double(expression) %}
    {{ return(adapter.dispatch('avg_as_double', 'loyalty_segments')(expression)) }}
{% endmacro %}

{% macro default__avg_as_double(expression) -%}
    avg({{ expression }})
{%- endmacro %}

{#- PostgreSQL's avg of a numeric is a numeric: cast, so that the contract's double holds. -#}
{% macro postgres__avg_as_double(expression) -%}
    cast(avg({{ expression }}) as double precision)
{%- endmacro %}
