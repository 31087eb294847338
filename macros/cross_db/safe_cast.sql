{#- Casts text to a type, giving null instead of an error when the text does not parse.
    DuckDB and Spark have try_cast; PostgreSQL checks the text's shape first. -#}
{% macro safe_cast(expression, data_type) %}
    {{ return(adapter.dispatch('safe_cast', 'loyalty_segments')(expression, data_type)) }}
{% endmacro %}

{% macro default__safe_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro postgres__safe_cast(expression, data_type) -%}
    {%- set lowered = data_type | lower -%}
    {%- if 'timestamp' in lowered or lowered == 'date' -%}
        {%- set pattern = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])([ T]([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d+)?)?)?$' -%}
    {%- elif 'bool' in lowered -%}
        {%- set pattern = '^(true|false|t|f|yes|no|1|0)$' -%}
    {%- else -%}
        {%- set pattern = '^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$' -%}
    {%- endif -%}
    case when {{ expression }} ~* '{{ pattern }}' then cast({{ expression }} as {{ data_type }}) end
{%- endmacro %}
