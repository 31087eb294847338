{#- Values are read as the input format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('customers') -%}
{{ config(
    materialized='table',
    post_hook={'sql': "{{ check_quarantine_share(this, 'customers') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'customers') }}

),

parsed as (

    select
        source_file,
        source_row_number,
        read_error,
        {{ clean_id('customer_id') }} as customer_id,
        nullif(trim(signup_at), '') as signup_at_text,
        {{ parse_timestamp("nullif(trim(signup_at), '')", fmt) }} as signup_at,
        nullif(lower(trim(consent_email)), '') as consent_email_text,
        nullif(lower(trim(consent_sms)), '') as consent_sms_text,
        nullif(lower(trim(consent_push)), '') as consent_push_text,
        {{ cast_or_null("nullif(lower(trim(consent_email)), '')", dbt.type_boolean()) }} as consent_email,
        {{ cast_or_null("nullif(lower(trim(consent_sms)), '')", dbt.type_boolean()) }} as consent_sms,
        {{ cast_or_null("nullif(lower(trim(consent_push)), '')", dbt.type_boolean()) }} as consent_push

    from source

),

validated as (

    select
        *,
        case
            when read_error is not null then read_error
            when customer_id is null then 'missing_customer_id'
            when signup_at_text is not null and signup_at is null then 'unparseable_signup_at'
            when signup_at >= {{ max_valid_timestamp() }} then 'future_signup_at'
            when consent_email_text is not null and consent_email is null then 'unparseable_consent_email'
            when consent_sms_text is not null and consent_sms is null then 'unparseable_consent_sms'
            when consent_push_text is not null and consent_push is null then 'unparseable_consent_push'
        end as validity_reason

    from parsed

),

classified as (

    {{ classify_duplicates(
        'validated',
        ['customer_id'],
        ['customer_id', 'signup_at', 'consent_email', 'consent_sms', 'consent_push']
    ) }}

)

select
    customer_id,
    signup_at,
    consent_email,
    consent_sms,
    consent_push,
    quarantine_reason,
    signup_at_text,
    source_file,
    source_row_number

from classified
