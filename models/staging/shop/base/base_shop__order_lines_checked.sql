{#- Incremental by input file: a run reads only files not loaded before. A line has no key of its
    own and nothing in a later file replaces it, so loaded lines are never classified again; the
    run's batch_loaded_at tells int_orders_measured which orders got new lines. Values are read as
    the input format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('order_lines') -%}
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source_file', 'source_row_number'],
    on_schema_change='fail',
    post_hook={'sql': "{{ check_quarantine_share(this, 'order_lines') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'order_lines') }}
    {% if is_incremental() %}
        where {{ unloaded_files_filter('order_lines', this) }}
    {% endif %}

),

parsed as (

    select
        source_file,
        source_row_number,
        read_error,
        {{ clean_id('order_id') }} as order_id,
        {{ clean_id('product_id') }} as product_id,
        nullif(trim(quantity), '') as quantity_text,
        nullif(trim(amount), '') as amount_text,
        nullif(trim(unit_price), '') as unit_price_text,
        {{ parse_decimal("nullif(trim(quantity), '')", fmt, money_type()) }} as quantity,
        {{ parse_decimal("nullif(trim(amount), '')", fmt, money_type()) }} as amount,
        {{ parse_decimal("nullif(trim(unit_price), '')", fmt, money_type()) }} as unit_price

    from source

),

validated as (

    select
        *,
        case
            when read_error is not null then read_error
            when order_id is null then 'missing_order_id'
            when product_id is null then 'missing_product_id'
            when quantity_text is null then 'missing_quantity'
            when quantity is null then 'unparseable_quantity'
            when amount_text is null then 'missing_amount'
            when amount is null then 'unparseable_amount'
            when unit_price_text is not null and unit_price is null then 'unparseable_unit_price'
        end as validity_reason

    from parsed

),

classified as (

    {#- A line has no id of its own and a basket can hold the same product twice (the real
        online-retail invoices do, and their totals include both), so identical lines are kept. -#}
    select
        *,
        validity_reason as quarantine_reason

    from validated

)

select
    order_id,
    product_id,
    quantity,
    amount,
    unit_price,
    quarantine_reason,
    quantity_text,
    amount_text,
    source_file,
    source_row_number,
    {{ batch_loaded_at() }} as batch_loaded_at

from classified
