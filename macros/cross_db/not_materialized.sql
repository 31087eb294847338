{#- `with x as {{ not_materialized() }} (...)`: a CTE read twice is computed where it is read instead
    of being buffered whole. DuckDB buffers such a CTE in memory, and one of tens of millions of
    rows (the customer-day history joined to the score dates) spills to disk under memory_limit:
    reading it twice is about half the time. PostgreSQL (12 and later) takes the same words; Spark
    has no such clause and inlines CTEs anyway. -#}
{% macro not_materialized() %}
    {{ return(adapter.dispatch('not_materialized', 'loyalty_segments')()) }}
{% endmacro %}

{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}
