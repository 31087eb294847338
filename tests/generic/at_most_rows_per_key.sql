{#-
    Fails for every key (a combination of columns or SQL expressions) that occurs on more than
    max_rows rows. With max_rows: 1 it is a uniqueness test; with a month expression in the key it
    is a frequency cap: at most 1-2 personal offers per customer a month
    (best-customers-without-discounts.ru.txt).
-#}
{% test at_most_rows_per_key(model, key_columns, max_rows=1) %}

{%- if key_columns is string or key_columns is mapping or key_columns is not iterable or key_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "at_most_rows_per_key: key_columns must be a non-empty list of columns or expressions, got " ~ key_columns) }}
{%- endif -%}
{%- if max_rows is not integer or max_rows is boolean or max_rows < 1 -%}
    {{ exceptions.raise_compiler_error("at_most_rows_per_key: max_rows must be an integer >= 1, got " ~ max_rows) }}
{%- endif -%}

{%- set keys = [] -%}
{%- for key_column in key_columns -%}
    {%- do keys.append(key_column ~ ' as key_' ~ loop.index) -%}
{%- endfor %}

with

keyed as (

    select {{ keys | join(', ') }}

    from {{ model }}

),

rows_per_key as (

    select
        {% for key_column in key_columns -%}
        key_{{ loop.index }},
        {% endfor -%}
        count(*) as rows_count

    from keyed

    group by
        {%- for key_column in key_columns %}
        key_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}

)

select * from rows_per_key

where rows_count > {{ max_rows }}

{% endtest %}
