{#- ISO day of week of a date or timestamp: 1 = Monday … 7 = Sunday, on every engine. -#}
{% macro iso_day_of_week(expression) %}
    {{ return(adapter.dispatch('iso_day_of_week', 'loyalty_segments')(expression)) }}
{% endmacro %}

{% macro default__iso_day_of_week(expression) -%}
    cast(extract(isodow from {{ expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(expression) -%}
    (((dayofweek({{ expression }}) + 5) % 7) + 1)
{%- endmacro %}
