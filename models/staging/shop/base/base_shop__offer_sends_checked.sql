{#- Values are read as the input format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('offer_sends') -%}
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
        read_error,
        {{ clean_id('send_id') }} as send_id,
        {{ clean_id('customer_id') }} as customer_id,
        {{ clean_id('offer_id') }} as offer_id,
        nullif(trim(sent_at), '') as sent_at_text,
        {{ parse_timestamp("nullif(trim(sent_at), '')", fmt) }} as sent_at,
        nullif(lower(trim(channel)), '') as channel,
        nullif(lower(trim(is_holdout)), '') as is_holdout_text,
        {{ cast_or_null("nullif(lower(trim(is_holdout)), '')", dbt.type_boolean()) }} as is_holdout

    from source

),

validated as (

    select
        *,
        case
            when read_error is not null then read_error
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
