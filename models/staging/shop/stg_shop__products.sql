with

checked as (

    select * from {{ ref('base_shop__products_checked') }}

),

staged as (

    select
        product_id,
        category,
        product_name,
        unit_cost,
        source_file,
        source_row_number

    from checked

    where quarantine_reason is null

)

select * from staged
