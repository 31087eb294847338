with

checked as (

    select * from {{ ref('base_shop__customers_checked') }}

),

staged as (

    select
        customer_id,
        signup_at,
        consent_email,
        consent_sms,
        consent_push,
        source_file,
        source_row_number

    from checked

    where quarantine_reason is null

)

select * from staged
