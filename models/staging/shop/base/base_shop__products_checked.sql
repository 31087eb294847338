{#- Values are read as the input format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('products') -%}
{{ config(
    materialized='table',
    post_hook={'sql': "{{ check_quarantine_share(this, 'products') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'products') }}

),

parsed as (

    select
        source_file,
        source_row_number,
        read_error,
        {{ clean_id('product_id') }} as product_id,
        nullif(lower(trim(category)), '') as category,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(unit_cost), '') as unit_cost_text,
        {{ parse_decimal("nullif(trim(unit_cost), '')", fmt, money_type()) }} as unit_cost

    from source

),

validated as (

    select
        *,
        case
            when read_error is not null then read_error
            when product_id is null then 'missing_product_id'
            when unit_cost_text is not null and unit_cost is null then 'unparseable_unit_cost'
            when unit_cost < 0 then 'negative_unit_cost'
        end as validity_reason

    from parsed

),

classified as (

    {{ classify_duplicates('validated', ['product_id'], ['product_id', 'category', 'product_name', 'unit_cost']) }}

)

select
    product_id,
    category,
    product_name,
    unit_cost,
    quarantine_reason,
    unit_cost_text,
    source_file,
    source_row_number

from classified
