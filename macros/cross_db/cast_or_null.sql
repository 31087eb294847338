{#- Casts text to a type, giving null instead of an error when the text does not parse (dbt's own
    safe_cast is left alone: dbt builds unit-test fixtures with it). DuckDB and Spark have try_cast.
    PostgreSQL 15 has none: the text's shape is checked first (so that words PostgreSQL would read,
    such as 'epoch', 'NaN' or 'Jan 5 2024', are not), and a text of the right shape that still does not
    cast (2024-02-30, 10^20 into numeric(18,4)) is null through a function that catches the error,
    created by the on-run-start hook (create_engine_functions). -#}
{% macro cast_or_null(expression, data_type) %}
    {{ return(adapter.dispatch('cast_or_null', 'loyalty_segments')(expression, data_type)) }}
{% endmacro %}

{% macro default__cast_or_null(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro postgres__cast_or_null(expression, data_type) -%}
    {%- set lowered = data_type | lower -%}
    {%- if 'timestamp' in lowered or lowered == 'date' -%}
        {%- set pattern = '^\\d{4}-\\d{1,2}-\\d{1,2}([ T]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?$' -%}
        {%- set kind = 'timestamp' -%}
    {%- elif 'bool' in lowered -%}
        {%- set pattern = '^(true|false|t|f|yes|no|1|0)$' -%}
        {%- set kind = 'boolean' -%}
    {%- else -%}
        {%- set pattern = '^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$' -%}
        {%- set kind = 'numeric' -%}
    {%- endif -%}
    case when {{ expression }} ~* '{{ pattern }}' then cast({{ var('raw_schema') }}.loyalty_try_{{ kind }}({{ expression }}) as {{ data_type }}) end
{%- endmacro %}


{#- Functions some engines lack, created before every run (on-run-start). PostgreSQL: the casts of
    cast_or_null that return null where a cast would fail. They live in the raw schema, next to the
    tables scripts/load_raw.py loads. -#}
{% macro create_engine_functions() %}
    {{ return(adapter.dispatch('create_engine_functions', 'loyalty_segments')()) }}
{% endmacro %}

{% macro default__create_engine_functions() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__create_engine_functions() %}
    {%- set statements = ['create schema if not exists ' ~ var('raw_schema')] -%}
    {%- for kind in ['timestamp', 'boolean', 'numeric'] -%}
        {%- do statements.append('create or replace function ' ~ var('raw_schema') ~ '.loyalty_try_' ~ kind
            ~ '(value text) returns ' ~ kind ~ ' language plpgsql immutable as $$ begin return value::'
            ~ kind ~ '; exception when others then return null; end $$') -%}
    {%- endfor -%}
    {{ return(statements | join(';\n') ~ ';') }}
{% endmacro %}
