{#-
    Fails for every combination of the given columns that occurs on more than one row: the
    primary-key test of a table whose key spans several columns. Nulls count as a value.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}

{%- if combination_of_columns is string or combination_of_columns is not iterable or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns: combination_of_columns must be a non-empty list of column names, got "
        ~ combination_of_columns) }}
{%- endif -%}
{%- if quote_columns is not boolean -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns: quote_columns must be true or false, got " ~ quote_columns) }}
{%- endif -%}

{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set column_list = columns | join(', ') %}

with

duplicated_keys as (

    select
        {{ column_list }},
        count(*) as rows_count

    from {{ model }}

    group by {{ column_list }}

    having count(*) > 1

)

select * from duplicated_keys

{% endtest %}
