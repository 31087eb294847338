{#- The start of this dbt invocation as a timestamp: the batch_loaded_at of every row an incremental
    model (re)computes in the run, and the watermark the next run compares with. -#}
{% macro batch_loaded_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
