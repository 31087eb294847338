{#- Tie-safe quantile score 1..bins: 1 + floor(bins × share of customers strictly worse), so equal
    values always share a score and no tie is split arbitrarily (unlike ntile). With a heavily tied
    value (most customers bought once) the tied block gets the score of its lower edge and the
    scores above it start where the block ends: scores can skip, never split. -#}
{% macro quantile_score(value, bins, partition_by, higher_is_better=true) -%}
    {%- set direction = 'asc' if higher_is_better else 'desc' -%}
    cast(
        1 + floor(
            {{ bins }} * (rank() over (partition by {{ partition_by }} order by {{ value }} {{ direction }}) - 1)
            / (1.0 * count(*) over (partition by {{ partition_by }}))
        ) as integer
    )
{%- endmacro %}
