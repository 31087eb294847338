with

checked as (

    select * from {{ ref('base_shop__order_lines_checked') }}

),

staged as (

    select
        order_id,
        product_id,
        quantity,
        amount,
        unit_price,
        source_file,
        source_row_number

    from checked

    where quarantine_reason is null

)

select * from staged
