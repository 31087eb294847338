{#- Sums with a fixed result type. A plain sum widens: on DuckDB sum(integer) is a 128-bit
    HUGEINT and sum(decimal(18, 4)) a decimal(38, 4), and every later aggregate over those wide
    types runs about ten times slower than over 64-bit ones. Counts fit a bigint and money fits
    money_type() at any realistic volume, so the sums are cast back where they are taken. -#}
{% macro sum_count(expression) -%}
    cast(sum({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- sum_money(expression, group_by): the sum cast back to money_type(). A sum that does not fit
    money_type() (99 trillion currency units) stops the build on DuckDB with a message naming the
    model, the expression, the group and the value, instead of DuckDB's cast error. group_by names
    the aggregation's group key for the message: a list of SQL expressions (['customer_id'], shown
    as customer_id=...) or a mapping of label to expression ({'customer_id': 'days.customer_id'}).
    The check is one comparison per group on the sum DuckDB already holds as a decimal(38, 4);
    other engines raise their own overflow error. -#}
{% macro sum_money(expression, group_by=[]) -%}
    {{ return(adapter.dispatch('sum_money', 'loyalty_segments')(expression, group_by)) }}
{%- endmacro %}

{% macro default__sum_money(expression, group_by=[]) -%}
    cast(sum({{ expression }}) as {{ money_type() }})
{%- endmacro %}

{% macro duckdb__sum_money(expression, group_by=[]) -%}
    {%- set total = 'sum(' ~ expression ~ ')' -%}
    {%- set labels = [] -%}
    {%- set keys = group_by.items() if group_by is mapping else zip(group_by, group_by) -%}
    {%- for name, key in keys -%}
        {%- do labels.append("'" ~ name | replace("'", "''") ~ "=' || coalesce(cast(" ~ key ~ " as varchar), '(empty)')") -%}
    {%- endfor -%}
    {%- set model_name = model.name if model is defined and model is not none and model.name is defined else 'a model' -%}
    {#- the largest value of money_type(): decimal(18, 4) holds 99999999999999.9999 -#}
    {%- set type_args = modules.re.search('\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)', money_type()) -%}
    {%- set integer_digits = type_args.group(1) | int - type_args.group(2) | int -%}
    {%- set money_max = '9' * integer_digits ~ '.' ~ '9' * (type_args.group(2) | int) -%}
    {%- set in_words = ' (99 trillion)' if integer_digits == 14 else '' -%}
    case
        -- a sum of no rows or of nulls is null, and passes
        when {{ total }} is null or {{ total }} between -{{ money_max }} and {{ money_max }}
            then cast({{ total }} as {{ money_type() }})
        else error(
            '{{ model_name }}: the sum of {{ expression | replace("'", "''") }} for '
            || {{ labels | join(" || ', ' || ") if labels else "'all rows'" }}
            || ' is ' || cast({{ total }} as varchar)
            || ', which does not fit the money type {{ money_type() | trim }}: at most {{ money_max }}{{ in_words }}'
            || ' currency units per customer, per day, per month and in every total.'
            || ' Check the unit and decimal separator of the input amount column (amounts in cents,'
            || ' or a thousands separator read as the decimal point, make them 100 or 1000 times too large),'
            || ' and the rate of its currency in seeds/currencies.csv. If the amounts are right,'
            || ' widen money_type() in macros/cross_db/money_type.sql (decimal(38, 4) parses about'
            || ' 40 times slower on DuckDB).'
        )
    end
{%- endmacro %}
