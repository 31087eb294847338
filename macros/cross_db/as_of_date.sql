{#- The scoring date as a SQL date literal: var('as_of_date') (YYYY-MM-DD); when the var is empty,
    env LOYALTY_AS_OF_DATE; when both are empty, the day the run started. Every mart is a function
    of the data and this date only.
    The env var is read only while executing, never while parsing: dbt parses the whole project
    again when --vars change, and re-parses every file that read a changed env var, so a scheduled
    job that sets the date there keeps its saved parse (target/partial_parse.msgpack) from night to
    night. A var given for the run (--vars, a unit test's overrides) wins over the env var. -#}
{% macro as_of_date_value() %}
    {%- set value = var('as_of_date', '') | string | trim -%}
    {%- set setting = "var as_of_date" -%}
    {%- if value in ('', 'none', 'None') and execute -%}
        {%- set value = env_var('LOYALTY_AS_OF_DATE', '') | trim -%}
        {%- set setting = "env LOYALTY_AS_OF_DATE" -%}
    {%- endif -%}
    {%- if value in ('', 'none', 'None', 'today') -%}
        {%- set value = run_started_at.strftime('%Y-%m-%d') -%}
    {%- endif -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', value) -%}
        {{ exceptions.raise_compiler_error(setting ~ " must be YYYY-MM-DD, got '" ~ value ~ "'") }}
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
