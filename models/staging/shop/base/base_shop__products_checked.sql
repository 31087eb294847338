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
        nullif(trim(product_id), '') as product_id,
        nullif(lower(trim(category)), '') as category,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(unit_cost), '') as unit_cost_text,
        {{ safe_cast("nullif(trim(unit_cost), '')", money_type()) }} as unit_cost

    from source

),

validated as (

    select
        *,
        case
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
