with

checked as (

    select * from {{ ref('base_shop__orders_checked') }}

),

staged as (

    select
        order_id,
        customer_id,
        is_guest,
        ordered_at,
        order_date,
        currency_code,
        amount_original,
        amount,
        discount_amount,
        has_discount_data,
        status,
        is_purchase,
        is_cancelled,
        is_fully_returned,
        channel,
        source_file,
        source_row_number,
        batch_loaded_at

    from checked

    where quarantine_reason is null

)

select * from staged
