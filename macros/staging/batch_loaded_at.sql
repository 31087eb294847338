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

{#- The (customer_id, order_date) pairs whose orders changed after the watermark of `relation`: the
    days of rows (re)classified since then, with their old and new values (a correction can move an
    order to another day or customer), and the days of orders measured again since then (an order
    that got new lines has a new cost). What an incremental model over the customer-day history
    has to recompute; a pair may occur more than once. -#}
{% macro changed_customer_days(relation) -%}
    select
        customer_id,
        order_date

    from {{ ref('base_shop__orders_checked') }}

    where
        customer_id is not null
        and order_date is not null
        and batch_loaded_at > {{ batch_watermark(relation) }}

    union

    select
        customer_id,
        order_date

    from {{ ref('int_orders_measured') }}

    where
        customer_id is not null
        and batch_loaded_at > {{ batch_watermark(relation) }}
{%- endmacro %}
