{#- The scoring date as a SQL date literal: var('as_of_date') (YYYY-MM-DD), or the day the run
    started when the var is empty. Every mart is a function of the data and this date only. -#}
{% macro as_of_date_value() %}
    {%- set value = var('as_of_date', '') | string | trim -%}
    {%- if value in ('', 'none', 'None', 'today') -%}
        {%- set value = run_started_at.strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', value) -%}
        {{ exceptions.raise_compiler_error("var as_of_date must be YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_date_value() }}' as date)
{%- endmacro %}

{#- Timestamps at or after this are "in the future" and quarantined: the end of the later of the
    run day and as_of_date, plus future_tolerance_days for clock and time-zone skew. -#}
{% macro max_valid_timestamp() -%}
    {%- set reference = [run_started_at.strftime('%Y-%m-%d'), as_of_date_value()] | max -%}
    {{ dbt.dateadd('day', var('future_tolerance_days') + 1, "cast('" ~ reference ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
