{#-
    Fails for every row where the boolean SQL expression is false; a null result passes, as in
    dbt-utils (pair with not_null, or wrap the expression in coalesce). With column_name the
    expression is appended to the column ("column_name: amount, expression: '>= 0'"). Restrict
    the rows checked with dbt's built-in `where` config (under `config:`; a `where` placed under
    `arguments:` is read by dbt as the same config).
-#}
{% test expression_is_true(model, expression, column_name=none) %}

{%- if expression is not string or expression | trim == '' -%}
    {{ exceptions.raise_compiler_error(
        "expression_is_true: expression must be a non-empty SQL boolean expression, got " ~ expression) }}
{%- endif -%}

{%- set predicate = (column_name ~ ' ' ~ expression) if column_name is not none else expression %}

with

violations as (

    select *

    from {{ model }}

    where not ({{ predicate }})

)

select * from violations

{% endtest %}
