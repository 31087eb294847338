with

checked as (

    select * from {{ ref('base_shop__events_checked') }}

),

staged as (

    select
        customer_id,
        event_at,
        event_date,
        event_type,
        product_id,
        source_file,
        source_row_number

    from checked

    where quarantine_reason is null

)

select * from staged
