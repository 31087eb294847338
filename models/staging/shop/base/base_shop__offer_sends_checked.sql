{#- Incremental by input file, like the orders: a run reads only files not loaded before, and
    classifies again every loaded row that shares a send id with the new rows (a send in a later file
    corrects the earlier one; a duplicate of it is quarantined), plus rows held back as "future"
    (they may have become valid). Every (re)classified row carries the run's batch_loaded_at.
    Values are read as the input format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('offer_sends') -%}
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source_file', 'source_row_number'],
    on_schema_change='fail',
    post_hook={'sql': "{{ check_quarantine_share(this, 'offer_sends') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'offer_sends') }}
    {% if is_incremental() %}
        where {{ unloaded_files_filter('offer_sends', this) }}
    {% endif %}

),

parsed_new as (

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

{% if is_incremental() %}
affected_sends as (

    {{ keys_to_reclassify('parsed_new', 'send_id', this, 'future_sent_at') }}

),

parsed_loaded as (

    select
        source_file,
        source_row_number,
        -- rows the reader could not parse have no send_id, so none is loaded again here
        cast(null as {{ engine_type("text") }}) as read_error,
        send_id,
        customer_id,
        offer_id,
        sent_at_text,
        sent_at,
        channel,
        is_holdout_text,
        {{ cast_or_null("is_holdout_text", dbt.type_boolean()) }} as is_holdout

    from {{ this }}

    where send_id in (select affected_sends.send_id from affected_sends)

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
    is_holdout_text,
    source_file,
    source_row_number,
    {{ batch_loaded_at() }} as batch_loaded_at

from classified
