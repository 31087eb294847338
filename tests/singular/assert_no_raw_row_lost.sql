-- Nothing is lost: for every input file, the rows in the raw file equal the rows staged plus the
-- rows quarantined. Counts are taken from the raw source itself, the staging models and the
-- quarantine mart independently; any file where they disagree is returned.

{%- set entities = {
    'orders': 'stg_shop__orders',
    'order_lines': 'stg_shop__order_lines',
    'products': 'stg_shop__products',
    'customers': 'stg_shop__customers',
    'events': 'stg_shop__events',
    'offer_sends': 'stg_shop__offer_sends',
} %}

with

{% for entity, staging_model in entities.items() %}
raw_{{ entity }} as (

    select '{{ entity }}' as entity, source_file, count(*) as rows_count
    from {{ source('shop', entity) }}
    group by source_file

),

staged_{{ entity }} as (

    select '{{ entity }}' as entity, source_file, count(*) as rows_count
    from {{ ref(staging_model) }}
    group by source_file

),

{% endfor %}
raw_counts as (

    {% for entity in entities %}
    select * from raw_{{ entity }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

staged_counts as (

    {% for entity in entities %}
    select * from staged_{{ entity }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

quarantined_counts as (

    select entity, source_file, count(*) as rows_count
    from {{ ref('fct_quarantined_rows') }}
    group by entity, source_file

),

compared as (

    select
        raw_counts.entity,
        raw_counts.source_file,
        raw_counts.rows_count as raw_rows,
        coalesce(staged_counts.rows_count, 0) as staged_rows,
        coalesce(quarantined_counts.rows_count, 0) as quarantined_rows

    from raw_counts

    left join staged_counts
        on raw_counts.entity = staged_counts.entity
        and raw_counts.source_file = staged_counts.source_file

    left join quarantined_counts
        on raw_counts.entity = quarantined_counts.entity
        and raw_counts.source_file = quarantined_counts.source_file

)

select * from compared
where raw_rows <> staged_rows + quarantined_rows
