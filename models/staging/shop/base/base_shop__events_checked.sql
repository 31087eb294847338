{#- Incremental by input file: a run reads only files not loaded before. Events have no id, so an
    event identical to a loaded one (same customer, time, type and product) is a duplicate: the
    loaded rows with the same content as a new row are classified again together with it, and so
    are rows held back as "future" (they may have become valid). Values are read as the input
    format says (macros/staging/parse_text.sql). -#}
{%- set fmt = input_format('events') -%}
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source_file', 'source_row_number'],
    on_schema_change='fail',
    post_hook={'sql': "{{ check_quarantine_share(this, 'events') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'events') }}
    {% if is_incremental() %}
        where {{ unloaded_files_filter('events', this) }}
    {% endif %}

),

parsed_new as (

    select
        source_file,
        source_row_number,
        {{ clean_id('customer_id') }} as customer_id,
        nullif(trim(event_at), '') as event_at_text,
        {{ parse_timestamp("nullif(trim(event_at), '')", fmt) }} as event_at,
        nullif(lower(trim(event_type)), '') as event_type,
        {{ clean_id('product_id') }} as product_id,
        read_error

    from source

),

{% if is_incremental() %}
parsed_loaded as (

    select
        loaded.source_file,
        loaded.source_row_number,
        loaded.customer_id,
        loaded.event_at_text,
        loaded.event_at,
        loaded.event_type,
        loaded.product_id,
        -- rows the reader could not parse have no customer_id, so none is loaded again here
        cast(null as {{ engine_type("text") }}) as read_error

    from {{ this }} as loaded

    where
        loaded.quarantine_reason = 'future_event_at'
        or exists (
            select 1
            from parsed_new
            where
                parsed_new.customer_id = loaded.customer_id
                and parsed_new.event_at = loaded.event_at
                and parsed_new.event_type = loaded.event_type
                and coalesce(parsed_new.product_id, '') = coalesce(loaded.product_id, '')
        )

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
            when event_at_text is null then 'missing_event_at'
            when event_at is null then 'unparseable_event_at'
            when event_at < cast('{{ var("min_valid_date") }}' as {{ dbt.type_timestamp() }})
                then 'implausible_event_at'
            when event_at >= {{ max_valid_timestamp() }} then 'future_event_at'
            when event_type is null then 'missing_event_type'
            when event_type not in ('product_view', 'add_to_cart', 'visit') then 'unknown_event_type'
        end as validity_reason

    from parsed

),

classified as (

    {#- Events have no id: identical events (same customer, time, type and product) are one event. -#}
    select
        *,
        case
            when validity_reason is not null then validity_reason
            when duplicate_rank > 1 then 'exact_duplicate'
        end as quarantine_reason

    from (
        select
            *,
            row_number() over (
                partition by validity_reason, customer_id, event_at, event_type, product_id
                order by source_file, source_row_number
            ) as duplicate_rank
        from validated
    ) as with_rank

)

select
    customer_id,
    event_at,
    cast(event_at as date) as event_date,
    event_type,
    product_id,
    quarantine_reason,
    event_at_text,
    source_file,
    source_row_number,
    {{ batch_loaded_at() }} as batch_loaded_at

from classified
