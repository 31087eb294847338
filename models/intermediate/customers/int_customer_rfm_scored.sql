-- RFM scores, the 11-segment scheme and the SmartRFM 3×3×3 cell of every customer who has
-- purchased, as of each score date. Recency = days since the last purchase, frequency = purchase
-- orders, monetary = net revenue. var('rfm_method') chooses quantile or seed thresholds scoring,
-- var('rfm_bins') 5 or 3 bins.
-- depends_on: {{ ref('rfm_thresholds') }}

{%- set bins = var('rfm_bins') | int -%}
{%- if bins not in (3, 5) -%}
    {{ exceptions.raise_compiler_error("var rfm_bins must be 3 or 5, got " ~ bins) }}
{%- endif -%}
{%- set method = var('rfm_method') -%}
{%- if method not in ('quantile', 'thresholds') -%}
    {{ exceptions.raise_compiler_error("var rfm_method must be 'quantile' or 'thresholds', got " ~ method) }}
{%- endif %}

with

facts as (

    select
        score_date,
        customer_id,
        recency_days,
        orders_count,
        net_revenue

    from {{ ref('int_customer_facts_snapshotted') }}

    where has_purchased

),

segments as (

    select * from {{ ref('rfm_segments') }}
    where score_bins = {{ bins }}

),

smartrfm_cells as (

    select * from {{ ref('smartrfm_cells') }}

),

{% if method == 'quantile' %}
scored as (

    select
        *,
        {{ quantile_score('facts.recency_days', bins, 'facts.score_date', higher_is_better=false) }} as r_score,
        {{ quantile_score('facts.orders_count', bins, 'facts.score_date') }} as f_score,
        {{ quantile_score('facts.net_revenue', bins, 'facts.score_date') }} as m_score

    from facts

),
{% else %}
thresholds as (

    select * from {{ ref('rfm_thresholds') }}
    where score_bins = {{ bins }}

),

scored as (

    select
        facts.*,
        recency.score as r_score,
        frequency.score as f_score,
        monetary.score as m_score

    from facts

    inner join thresholds as recency
        on recency.dimension = 'recency'
        and (facts.recency_days >= recency.min_value or recency.min_value is null)
        and (facts.recency_days < recency.max_value or recency.max_value is null)

    inner join thresholds as frequency
        on frequency.dimension = 'frequency'
        and (facts.orders_count >= frequency.min_value or frequency.min_value is null)
        and (facts.orders_count < frequency.max_value or frequency.max_value is null)

    inner join thresholds as monetary
        on monetary.dimension = 'monetary'
        and (facts.net_revenue >= monetary.min_value or monetary.min_value is null)
        and (facts.net_revenue < monetary.max_value or monetary.max_value is null)

),
{% endif %}

banded as (

    select
        *,
        {{ smartrfm_recency_band('recency_days') }} as recency_band,
        {{ smartrfm_frequency_band('orders_count') }} as frequency_band,
        case {{ quantile_score('scored.net_revenue', 3, 'scored.score_date') }}
            when 1 then 'small'
            when 2 then 'medium'
            else 'large'
        end as monetary_band

    from scored

),

final as (

    select
        banded.*,
        {{ dbt.concat(["cast(banded.r_score as " ~ dbt.type_string() ~ ")",
                       "cast(banded.f_score as " ~ dbt.type_string() ~ ")",
                       "cast(banded.m_score as " ~ dbt.type_string() ~ ")"]) }} as rfm_cell,
        segments.rfm_segment,
        segments.rfm_group,
        smartrfm_cells.smartrfm_cell,
        smartrfm_cells.smartrfm_group

    from banded

    inner join segments
        on banded.r_score = segments.r_score
        and banded.f_score = segments.f_score
        and banded.m_score = segments.m_score

    inner join smartrfm_cells
        on banded.recency_band = smartrfm_cells.recency_band
        and banded.frequency_band = smartrfm_cells.frequency_band
        and banded.monetary_band = smartrfm_cells.monetary_band

)

select * from final
