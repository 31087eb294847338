-- Per input file: rows read, staged and quarantined (by kind: superseded by a correction,
-- continuation rows of an order, bad). raw_rows = staged_rows +
-- quarantined_rows for every file; a test checks it against the raw files themselves.

{%- set entities = ['orders', 'order_lines', 'products', 'customers', 'events', 'offer_sends'] %}

with

{% for entity in entities %}
{{ entity }} as (

    select
        '{{ entity }}' as entity,
        source_file,
        count(*) as raw_rows,
        {{ sum_count('case when quarantine_reason is null then 1 else 0 end') }} as staged_rows,
        {{ sum_count("case when quarantine_reason = 'superseded_by_later_file' then 1 else 0 end") }}
            as superseded_rows,
        {{ sum_count("case when quarantine_reason = 'continuation_row' then 1 else 0 end") }} as continuation_rows,
        {{ sum_count(
            "case when quarantine_reason is not null"
            ~ " and quarantine_reason not in ('superseded_by_later_file', 'continuation_row') then 1 else 0 end"
        ) }} as bad_rows

    from {{ ref('base_shop__' ~ entity ~ '_checked') }}

    group by source_file

),

{% endfor %}
unioned as (

    {% for entity in entities %}
    select * from {{ entity }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)
,

final as (

    select
        entity,
        source_file,
        raw_rows,
        staged_rows,
        superseded_rows + continuation_rows + bad_rows as quarantined_rows,
        superseded_rows,
        continuation_rows,
        bad_rows,
        cast(bad_rows as {{ engine_type('double') }}) / raw_rows as bad_rows_share

    from unioned

)

select
    entity,
    source_file,
    raw_rows,
    staged_rows,
    quarantined_rows,
    superseded_rows,
    continuation_rows,
    bad_rows,
    bad_rows_share

from final
