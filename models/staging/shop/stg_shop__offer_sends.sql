with

checked as (

    select * from {{ ref('base_shop__offer_sends_checked') }}

),

staged as (

    select
        send_id,
        customer_id,
        offer_id,
        sent_at,
        channel,
        is_holdout,
        source_file,
        source_row_number

    from checked

    where quarantine_reason is null

)

select * from staged
