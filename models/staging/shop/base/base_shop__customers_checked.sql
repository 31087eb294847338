{#- Incremental by input file, like the orders: a run reads only files not loaded before, and
    classifies again every loaded row that shares a customer id with the new rows (a customer in a
    later file, a daily delta say, replaces the earlier row; a duplicate is quarantined), plus rows
    held back as "future". A snapshot file rewritten in place is a changed file: the input-state
    hook rebuilds the model from all files in the same run. Every (re)classified row carries the
    run's batch_loaded_at. Values are read as the input format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('customers') -%}
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source_file', 'source_row_number'],
    on_schema_change='fail',
    post_hook={'sql': "{{ check_quarantine_share(this, 'customers') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'customers') }}
    {% if is_incremental() %}
        where {{ unloaded_files_filter('customers', this) }}
    {% endif %}

),

parsed_new as (

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

{% if is_incremental() %}
affected_customers as (

    {{ keys_to_reclassify('parsed_new', 'customer_id', this, 'future_signup_at') }}

),

parsed_loaded as (

    select
        source_file,
        source_row_number,
        -- rows the reader could not parse have no customer_id, so none is loaded again here
        cast(null as {{ engine_type("text") }}) as read_error,
        customer_id,
        signup_at_text,
        signup_at,
        consent_email_text,
        consent_sms_text,
        consent_push_text,
        {{ cast_or_null("consent_email_text", dbt.type_boolean()) }} as consent_email,
        {{ cast_or_null("consent_sms_text", dbt.type_boolean()) }} as consent_sms,
        {{ cast_or_null("consent_push_text", dbt.type_boolean()) }} as consent_push

    from {{ this }}

    where customer_id in (select affected_customers.customer_id from affected_customers)

),

parsed as (

    select * from parsed_new
    union all
    select * from parsed_loaded

),
{% else %}
parsed as (

    select * from parsed_new

),
{% endif %}

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
    consent_email_text,
    consent_sms_text,
    consent_push_text,
    source_file,
    source_row_number,
    {{ batch_loaded_at() }} as batch_loaded_at

from classified
