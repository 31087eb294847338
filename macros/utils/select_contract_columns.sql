{#- The final select of a contracted mart: every column declared in the model's YAML, cast to its
    declared data_type, in the declared order. One place for the types: the YAML contract. -#}
{% macro select_contract_columns(from_relation) -%}
    {%- if not execute -%}
        {{ return('select * from ' ~ from_relation) }}
    {%- endif -%}
    {%- set columns = model.columns.values() | list -%}
    {%- if columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("select_contract_columns: " ~ model.name ~ " declares no columns") }}
    {%- endif -%}
    select
    {%- for column in columns %}
        cast({{ from_relation }}.{{ column.name }} as {{ column.data_type }}) as {{ column.name }}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
    from {{ from_relation }}
{%- endmacro %}
