{{ config(
    materialized='table',
    post_hook={'sql': "{{ check_quarantine_share(this, 'orders') }}", 'transaction': false}
) }}

with

source as (

    select * from {{ source('shop', 'orders') }}

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
        nullif(trim(order_id), '') as order_id,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(ordered_at), '') as ordered_at_text,
        nullif(trim(amount), '') as amount_text,
        coalesce(nullif(upper(trim(currency)), ''), '{{ var("reporting_currency") }}') as currency_code,
        coalesce(nullif(lower(trim(status)), ''), 'completed') as status,
        nullif(lower(trim(channel)), '') as channel,
        nullif(trim(discount_amount), '') as discount_amount_text

    from source

),

parsed as (

    select
        trimmed.*,
        {{ safe_cast('trimmed.ordered_at_text', dbt.type_timestamp()) }} as ordered_at,
        {{ safe_cast('trimmed.amount_text', money_type()) }} as amount_original,
        {{ safe_cast('trimmed.discount_amount_text', money_type()) }} as discount_amount_original,
        currencies.rate_to_reporting,
        statuses.is_purchase,
        statuses.is_cancelled,
        statuses.is_fully_returned

    from trimmed

    left join currencies
        on trimmed.currency_code = currencies.currency_code

    left join statuses
        on trimmed.status = statuses.status

),

validated as (

    select
        *,
        case
            when order_id is null then 'missing_order_id'
            when ordered_at_text is null then 'missing_ordered_at'
            when ordered_at is null then 'unparseable_ordered_at'
            when ordered_at < cast('{{ var("min_valid_date") }}' as {{ dbt.type_timestamp() }})
                then 'implausible_ordered_at'
            when ordered_at >= {{ max_valid_timestamp() }} then 'future_ordered_at'
            when amount_text is null then 'missing_amount'
            when amount_original is null then 'unparseable_amount'
            when rate_to_reporting is null then 'unknown_currency'
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
        amount_original,
        -- most rows are in the reporting currency: skip the multiplication there
        case
            when rate_to_reporting = 1 then amount_original
            else cast(amount_original * rate_to_reporting as {{ money_type() }})
        end as amount,
        case
            when discount_amount_original is null then cast(0 as {{ money_type() }})
            when rate_to_reporting = 1 then discount_amount_original
            else cast(discount_amount_original * rate_to_reporting as {{ money_type() }})
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
        source_row_number

    from classified

)

select * from final
