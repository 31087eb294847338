-- Every raw row that was not staged, from every input, with its reason and where it came from:
-- nothing is dropped silently. Rows superseded by a correction in a later file are listed too.

{%- set entities = {
    'orders': "order_id",
    'order_lines': "order_id",
    'products': "product_id",
    'customers': "customer_id",
    'events': "customer_id",
    'offer_sends': "send_id",
} %}

with

{% for entity, key_column in entities.items() %}
{{ entity }} as (

    select
        '{{ entity }}' as entity,
        source_file,
        source_row_number,
        {{ key_column }} as record_key,
        quarantine_reason

    from {{ ref('base_shop__' ~ entity ~ '_checked') }}

    where quarantine_reason is not null

),

{% endfor %}
unioned as (

    {% for entity in entities %}
    select * from {{ entity }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        entity,
        source_file,
        source_row_number,
        record_key,
        quarantine_reason,
        quarantine_reason = 'superseded_by_later_file' as is_correction

    from unioned

)

select
    entity,
    source_file,
    source_row_number,
    record_key,
    quarantine_reason,
    is_correction

from final
