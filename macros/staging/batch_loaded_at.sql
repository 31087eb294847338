{#- The start of this dbt invocation as a timestamp: the batch_loaded_at of every row an incremental
    model (re)computes in the run, and the watermark the next run compares with. -#}
{% macro batch_loaded_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- The watermark of an incremental model: the latest batch_loaded_at it holds (1900-01-01 when
    empty). Upstream rows with a later batch_loaded_at are what a run has to process. -#}
{% macro batch_watermark(relation) -%}
    (
        select coalesce(max(watermarked.batch_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ relation }} as watermarked
    )
{%- endmacro %}
