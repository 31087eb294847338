{#- The type of money amounts and quantities: 18 digits with 4 decimals. Wider decimals
    (dbt.type_numeric() is numeric(28,6)) need 128-bit arithmetic and parse about 40 times slower
    on DuckDB; 18 digits hold 99 trillion currency units. -#}
{% macro money_type() %}
    {{ return(adapter.dispatch('money_type', 'loyalty_segments')()) }}
{% endmacro %}

{% macro default__money_type() -%}
    decimal(18, 4)
{%- endmacro %}

{% macro postgres__money_type() -%}
    numeric(18, 4)
{%- endmacro %}


{#- Post-hook of the currencies seed: rebases its rates to var reporting_currency. The file holds
    every rate against one base currency (the row whose rate is 1, GBP as shipped); after the load
    each rate is divided by the reporting currency's, rate(c -> reporting) = rate(c -> base) /
    rate(reporting -> base), so that in the table rate_to_reporting is what its name says for any
    reporting currency, and the reporting currency's own rate is exactly 1. An unknown reporting
    currency stops the build here, before any order is converted. -#}
{% macro rebase_currency_rates(relation) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set reporting = var('reporting_currency') | string -%}
    {%- set rates = {} -%}
    {%- for row in run_query('select currency_code, rate_to_reporting from ' ~ relation ~ ' order by 1').rows -%}
        {%- do rates.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- if reporting not in rates -%}
        {{ exceptions.raise_compiler_error(
            "var reporting_currency is '" ~ reporting ~ "', which seeds/currencies.csv does not list"
            ~ (' (codes are upper case: ' ~ reporting | upper ~ ')' if reporting | upper in rates else '')
            ~ '. Set reporting_currency (dbt_project.yml, or --vars \'{reporting_currency: EUR}\') to an'
            ~ ' ISO 4217 code of the seed: ' ~ rates.keys() | join(', ')
            ~ ('' if reporting | upper in rates else '; or add a row for ' ~ reporting ~ ' to the seed with its'
                ~ ' rate against the base currency of the file (the row whose rate_to_reporting is 1)')
            ~ '.') }}
    {%- endif -%}
    {%- set reporting_rate = rates[reporting] -%}
    {%- if reporting_rate == 1 -%}
        {{ return('select 1') }}
    {%- endif -%}
    update {{ relation }}
    set rate_to_reporting = case
        when currency_code = '{{ reporting }}' then 1
        else cast(rate_to_reporting / {{ reporting_rate }} as decimal(18, 8))
    end
{% endmacro %}
