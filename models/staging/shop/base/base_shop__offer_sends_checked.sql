{{ config(
    materialized='table',
    post_hook={'sql': "{{ check_quarantine_share(this, 'offer_sends') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'offer_sends') }}

),

parsed as (

    select
        source_file,
        source_row_number,
        nullif(trim(send_id), '') as send_id,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(offer_id), '') as offer_id,
        nullif(trim(sent_at), '') as sent_at_text,
        {{ safe_cast("nullif(trim(sent_at), '')", dbt.type_timestamp()) }} as sent_at,
        nullif(lower(trim(channel)), '') as channel,
        nullif(lower(trim(is_holdout)), '') as is_holdout_text,
        {{ safe_cast("nullif(lower(trim(is_holdout)), '')", dbt.type_boolean()) }} as is_holdout

    from source

),

validated as (

    select
        *,
        case
            when send_id is null then 'missing_send_id'
            when customer_id is null then 'missing_customer_id'
            when offer_id is null then 'missing_offer_id'
            when sent_at_text is null then 'missing_sent_at'
            when sent_at is null then 'unparseable_sent_at'
            when sent_at >= {{ max_valid_timestamp() }} then 'future_sent_at'
            when is_holdout_text is not null and is_holdout is null then 'unparseable_is_holdout'
        end as validity_reason

    from parsed

),

classified as (

    {{ classify_duplicates(
        'validated',
        ['send_id'],
        ['send_id', 'customer_id', 'offer_id', 'sent_at', 'channel', 'is_holdout']
    ) }}

)

select
    send_id,
    customer_id,
    offer_id,
    sent_at,
    channel,
    coalesce(is_holdout, false) as is_holdout,
    quarantine_reason,
    sent_at_text,
    source_file,
    source_row_number

from classified
