-- Segments for targeting. A segment or cell smaller than segment_min_share of the scored base is
-- too small for stable statistics (articles: four-segmentation-methods, "no segment under 2-5% of
-- the base"): its customers fold into their group for targeting, and a group still too small after
-- folding becomes 'unassigned' (not targeted). The raw segment and cell stay visible beside it.

with

scored as (

    select * from {{ ref('int_customer_rfm_scored') }}
    where score_date = {{ as_of_date() }}

),

sized as (

    select
        customer_id,
        rfm_segment,
        rfm_group,
        smartrfm_cell,
        smartrfm_group,
        count(*) over () as base_count,
        count(*) over (partition by rfm_segment) as rfm_segment_count,
        count(*) over (partition by smartrfm_cell) as smartrfm_cell_count

    from scored

),

folded_once as (

    select
        *,
        case
            when rfm_segment_count >= {{ var('segment_min_share') }} * base_count then rfm_segment
            else {{ dbt.concat(['rfm_group', "' (group)'"]) }}
        end as rfm_segment_folded,
        case
            when smartrfm_cell_count >= {{ var('segment_min_share') }} * base_count then smartrfm_cell
            else {{ dbt.concat(['smartrfm_group', "' (group)'"]) }}
        end as smartrfm_cell_folded

    from sized

),

folded_twice as (

    select
        *,
        count(*) over (partition by rfm_segment_folded) as rfm_folded_count,
        count(*) over (partition by smartrfm_cell_folded) as smartrfm_folded_count

    from folded_once

),

final as (

    select
        customer_id,
        case
            when rfm_folded_count >= {{ var('segment_min_share') }} * base_count then rfm_segment_folded
            else 'unassigned'
        end as rfm_targeting_segment,
        case
            when smartrfm_folded_count >= {{ var('segment_min_share') }} * base_count then smartrfm_cell_folded
            else 'unassigned'
        end as smartrfm_targeting_cell

    from folded_twice

)

select * from final
