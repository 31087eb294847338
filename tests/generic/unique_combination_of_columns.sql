{#-
    Fails for every combination of the given columns that occurs on more than one row: the
    primary-key test of a table whose key spans several columns. Nulls count as a value.
    With new_rows_column (an incremental table's batch_loaded_at), once the test has passed on the
    table it checks only the keys of rows loaded since, over the whole table, and every key with a
    null (macros/staging/checked_slices.sql).
-#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false, new_rows_column=none) %}

{%- if combination_of_columns is string or combination_of_columns is not iterable or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns: combination_of_columns must be a non-empty list of column names, got "
        ~ combination_of_columns) }}
{%- endif -%}
{%- if quote_columns is not boolean -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns: quote_columns must be true or false, got " ~ quote_columns) }}
{%- endif -%}
{%- if new_rows_column is not none and (new_rows_column is not string or new_rows_column | length == 0) -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns: new_rows_column must be a column name, got " ~ new_rows_column) }}
{%- endif -%}

{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set column_list = columns | join(', ') -%}
{%- set recorded = none -%}
{%- if new_rows_column -%}
    {%- set recorded = checked_slice_watermark(model, combination_of_columns, new_rows_column) -%}
{%- endif %}

with

{% if recorded -%}
new_keys as (

    select distinct {{ column_list }}

    from {{ model }}

    where {{ new_rows_column }} > {{ recorded }}

),

checked_rows as (

    select
        {%- for column in columns %}
        checked.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ model }} as checked

    inner join new_keys
        on
        {%- for column in columns %}
        {{ 'and ' if not loop.first }}checked.{{ column }} = new_keys.{{ column }}
        {%- endfor %}

    union all

    select {{ column_list }}

    from {{ model }}

    where
    {%- for column in columns %}
        {{ 'or ' if not loop.first }}{{ column }} is null
    {%- endfor %}

),

{% endif -%}
duplicated_keys as (

    select
        {{ column_list }},
        count(*) as rows_count

    from {{ 'checked_rows' if recorded else model }}

    group by {{ column_list }}

    having count(*) > 1

)

select * from duplicated_keys

{% endtest %}
