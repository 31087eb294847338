{#-
    Fails (one row holding both counts) when the model and compare_model have different row
    counts: a mart that must keep one row per customer of its parent, say. Apply the `where`
    config to filter the model; compare_model may be a ref(), a source() or a subquery.
-#}
{% test equal_row_count(model, compare_model) %}

{%- if compare_model is none or compare_model | string | trim == '' -%}
    {{ exceptions.raise_compiler_error("equal_row_count: compare_model is required, e.g. compare_model: ref('other')") }}
{%- endif %}

with

model_rows as (

    select count(*) as rows_count from {{ model }}

),

compare_model_rows as (

    select count(*) as rows_count from {{ compare_model }} as compared

),

row_counts as (

    select
        model_rows.rows_count as model_rows_count,
        compare_model_rows.rows_count as compare_model_rows_count

    from model_rows

    cross join compare_model_rows

)

select * from row_counts

where model_rows_count <> compare_model_rows_count

{% endtest %}
