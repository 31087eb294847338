-- The deterministic control group: every customer's holdout bucket (0..9999) from
-- md5(customer_id || offer_holdout_salt), the same on every run and engine (macro
-- offer_holdout_bucket). Buckets below offer_holdout_share × 10000 are held out: they are chosen an
-- offer like everyone else but are not sent it, so that the increment can be measured
-- (four-segmentation-methods: control groups without intervention).

{%- set buckets = 10000 %}

with

customers as (

    select customer_id from {{ ref('int_customer_facts_snapshotted') }}
    where score_date = {{ as_of_date() }}

),

bucketed as (

    select
        customer_id,
        {{ offer_holdout_bucket('customer_id', buckets=buckets) }} as holdout_bucket

    from customers

),

final as (

    select
        customer_id,
        holdout_bucket,
        holdout_bucket < {{ var('offer_holdout_share') }} * {{ buckets }} as is_holdout

    from bucketed

)

select * from final
