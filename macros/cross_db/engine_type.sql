{#- The engine's name of a type whose name differs per engine (double, text), from var
    engine_types in dbt_project.yml: the one declaration that the marts' YAML contracts and the
    models' casts share. -#}
{% macro engine_type(name) %}
    {%- set types = var('engine_types') -%}
    {%- if target.type not in types or name not in types[target.type] -%}
        {{ exceptions.raise_compiler_error("var engine_types has no '" ~ name ~ "' type for the " ~ target.type
            ~ " adapter: add it in dbt_project.yml (engine_types: {" ~ target.type ~ ": {" ~ name ~ ": ...}})") }}
    {%- endif -%}
    {{ return(types[target.type][name]) }}
{% endmacro %}


{#- Days from one date to another as a double (for means of days, divided as doubles everywhere). -#}
{% macro days_double(from_date, to_date) -%}
    cast({{ dbt.datediff(from_date, to_date, 'day') }} as {{ engine_type('double') }})
{%- endmacro %}
