{#- Incremental by input file: a run reads only files not loaded before, and re-classifies every
    already-loaded row that shares an order id with the new rows (a correction in a later file
    supersedes the earlier row; a duplicate of an earlier row is quarantined), plus rows held back
    as "future" (they may have become valid). Every (re)classified row carries the run's
    batch_loaded_at, which the order-level intermediates use as their watermark.
    Values are read as the input format says (macros/staging/parse_text.sql); a Parquet column
    that already has the type (macros/raw/input_contract.sql typed_input_columns) is taken as it is,
    without its text: the *_text columns keep what was parsed, and are null for typed values. With the format's
    continuation_row_when_empty naming a column (Shopify's export: the second and later rows of an
    order carry only line-item fields), a row with that column empty whose order_id appears in an
    earlier row of the same file is a `continuation_row`: part of an order already read, not a bad
    row. Files are never loaded in part, so the rows of an order in one file are read together. -#}
{%- set fmt = input_format('orders') -%}
{%- set continuation_column = fmt.continuation_row_when_empty -%}
{%- set continuation_row_test = 'false' -%}
{%- if continuation_column -%}
    {%- set continuation_row_test = 'trimmed.is_continuation_column_empty and trimmed.source_row_number'
        ~ ' > min(trimmed.source_row_number) over (partition by trimmed.source_file, trimmed.order_id)' -%}
{%- endif -%}
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source_file', 'source_row_number'],
    on_schema_change='fail',
    post_hook=[
        {'sql': "{{ check_quarantine_share(this, 'orders') }}", 'transaction': false},
        {'sql': "{{ check_orders_staged(this) }}", 'transaction': false}
    ]
) }}

with

source as (

    select * from {{ source('shop', 'orders') }}
    {% if is_incremental() %}
        where {{ unloaded_files_filter('orders', this) }}
    {% endif %}

),

statuses as (

    select * from {{ ref('order_statuses') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

trimmed as (

    select
        source_file,
        source_row_number,
        read_error,
        {{ clean_id('order_id') }} as order_id,
        {{ clean_id('customer_id') }} as customer_id,
        {{ raw_typed_value('ordered_at', 'timestamp') }} as ordered_at_value,
        {{ raw_typed_value('amount', 'money') }} as amount_value,
        {{ raw_typed_value('discount_amount', 'money') }} as discount_amount_value,
        case when {{ raw_typed_value('ordered_at', 'timestamp') }} is null then nullif(trim(ordered_at), '') end
            as ordered_at_text,
        case when {{ raw_typed_value('amount', 'money') }} is null then nullif(trim(amount), '') end as amount_text,
        coalesce(nullif(upper(trim(currency)), ''), '{{ var("reporting_currency") }}') as currency_code,
        coalesce(nullif(lower(trim(status)), ''), 'completed') as status,
        nullif(lower(trim(channel)), '') as channel,
        case when {{ raw_typed_value('discount_amount', 'money') }} is null then nullif(trim(discount_amount), '') end
            as discount_amount_text,
        {{ "nullif(trim(" ~ continuation_column ~ "), '') is null" if continuation_column else 'false' }}
            as is_continuation_column_empty

    from source

),

parsed_new as (

    select
        trimmed.source_file,
        trimmed.source_row_number,
        trimmed.order_id,
        trimmed.customer_id,
        trimmed.ordered_at_text,
        trimmed.amount_text,
        trimmed.currency_code,
        trimmed.status,
        trimmed.channel,
        trimmed.discount_amount_text,
        coalesce(
            {{ timestamp_value_to_utc('trimmed.ordered_at_value', fmt) }},
            {{ parse_timestamp('trimmed.ordered_at_text', fmt) }}
        ) as ordered_at,
        coalesce(trimmed.amount_value, {{ parse_decimal('trimmed.amount_text', fmt, money_type()) }})
            as amount_original,
        coalesce(
            trimmed.discount_amount_value, {{ parse_decimal('trimmed.discount_amount_text', fmt, money_type()) }}
        ) as discount_amount_original,
        currencies.rate_to_reporting,
        statuses.is_purchase,
        statuses.is_cancelled,
        statuses.is_fully_returned,
        trimmed.read_error,
        {{ continuation_row_test }} as is_continuation_row

    from trimmed

    left join currencies
        on trimmed.currency_code = currencies.currency_code

    left join statuses
        on trimmed.status = statuses.status

),

{% if is_incremental() %}
affected_orders as (

    {{ keys_to_reclassify('parsed_new', 'order_id', this, 'future_ordered_at') }}

),

parsed_loaded as (

    select
        source_file,
        source_row_number,
        order_id,
        customer_id,
        ordered_at_text,
        amount_text,
        currency_code,
        status,
        channel,
        discount_amount_text,
        ordered_at,
        amount_original,
        discount_amount_original,
        rate_to_reporting,
        is_purchase,
        is_cancelled,
        is_fully_returned,
        -- rows the reader could not parse have no order_id, so none is loaded again here
        cast(null as {{ engine_type("text") }}) as read_error,
        -- a continuation row stays one: the earlier rows of its file do not change
        coalesce(quarantine_reason = 'continuation_row', false) as is_continuation_row

    from {{ this }}

    where order_id in (select affected_orders.order_id from affected_orders)

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
            when order_id is null then 'missing_order_id'
            when is_continuation_row then 'continuation_row'
            -- a typed value has no text: missing is neither a value nor text
            when ordered_at is null and ordered_at_text is null then 'missing_ordered_at'
            when ordered_at is null then 'unparseable_ordered_at'
            when ordered_at < cast('{{ var("min_valid_date") }}' as {{ dbt.type_timestamp() }})
                then 'implausible_ordered_at'
            when ordered_at >= {{ max_valid_timestamp() }} then 'future_ordered_at'
            when amount_original is null and amount_text is null then 'missing_amount'
            when amount_original is null then 'unparseable_amount'
            when rate_to_reporting is null then 'unknown_currency'
            -- converted, the amount must still fit the money type (99 trillion units)
            when
                abs(cast(amount_original as {{ engine_type("double") }}) * rate_to_reporting) >= 1e14
                or abs(cast(coalesce(discount_amount_original, 0) as {{ engine_type("double") }}) * rate_to_reporting)
                >= 1e14
                then 'amount_out_of_range'
            when is_purchase is null then 'unknown_status'
            when discount_amount_text is not null and discount_amount_original is null
                then 'unparseable_discount_amount'
            when discount_amount_original < 0 then 'negative_discount_amount'
        end as validity_reason

    from parsed

),

classified as (

    {{ classify_duplicates(
        'validated',
        ['order_id'],
        ['order_id', 'customer_id', 'ordered_at', 'amount_original', 'currency_code', 'status',
         'channel', 'discount_amount_original']
    ) }}

),

final as (

    select
        order_id,
        customer_id,
        customer_id is null as is_guest,
        ordered_at,
        cast(ordered_at as date) as order_date,
        currency_code,
        rate_to_reporting,
        amount_original,
        -- most rows are in the reporting currency: skip the multiplication there; elsewhere multiply
        -- in 38 digits (decimal(18,4) times the 8-decimal rate does not fit 18 digits from a million)
        case
            when rate_to_reporting = 1 then amount_original
            when abs(cast(amount_original as {{ engine_type("double") }}) * rate_to_reporting) < 1e14
                then cast(cast(amount_original as decimal(38, 4)) * rate_to_reporting as {{ money_type() }})
        end as amount,
        discount_amount_original,
        case
            when discount_amount_original is null then cast(0 as {{ money_type() }})
            when rate_to_reporting = 1 then discount_amount_original
            when abs(cast(discount_amount_original as {{ engine_type("double") }}) * rate_to_reporting) < 1e14
                then cast(cast(discount_amount_original as decimal(38, 4)) * rate_to_reporting as {{ money_type() }})
        end as discount_amount,
        discount_amount_original is not null as has_discount_data,
        status,
        is_purchase,
        is_cancelled,
        is_fully_returned,
        channel,
        quarantine_reason,
        ordered_at_text,
        amount_text,
        discount_amount_text,
        source_file,
        source_row_number,
        {{ batch_loaded_at() }} as batch_loaded_at

    from classified

)

select * from final
