{#- Final quarantine reason of raw rows, given a relation that already carries `validity_reason`
    (null when the row's own values are valid). Among valid rows:
    - a row identical (on content_columns) to an earlier one is an `exact_duplicate`; the first stays;
    - a key that arrives again in a later file was corrected there: earlier rows are
      `superseded_by_later_file` (files are ordered by name, as daily exports are);
    - a key that appears more than once with different content in its latest file is a
      `conflicting_duplicate`: no copy is staged, since nothing says which one is right. -#}
{% macro classify_duplicates(relation, key_columns, content_columns) %}
    {%- set keys = key_columns | join(', ') -%}
    {%- set is_candidate = 'with_rank.validity_reason is null and with_rank.duplicate_rank = 1' -%}
    select
        ranked.*,
        case
            when ranked.validity_reason is not null then ranked.validity_reason
            when ranked.duplicate_rank > 1 then 'exact_duplicate'
            when ranked.source_file < ranked.latest_file then 'superseded_by_later_file'
            when ranked.distinct_copies_in_file > 1 then 'conflicting_duplicate'
        end as quarantine_reason
    from (
        select
            with_rank.*,
            max(case when {{ is_candidate }} then with_rank.source_file end)
                over (partition by {{ keys }}) as latest_file,
            sum(case when {{ is_candidate }} then 1 else 0 end)
                over (partition by {{ keys }}, with_rank.source_file) as distinct_copies_in_file
        from (
            select
                checked.*,
                row_number() over (
                    partition by checked.validity_reason, {{ content_columns | join(', ') }}
                    order by checked.source_file, checked.source_row_number
                ) as duplicate_rank
            from {{ relation }} as checked
        ) as with_rank
    ) as ranked
{% endmacro %}
