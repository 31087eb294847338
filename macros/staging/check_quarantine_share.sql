{#- Stops the build when more than var('max_quarantine_share') of an entity's raw rows were
    quarantined. Corrections superseded by a later file and continuation rows (further rows of an
    order in a Shopify-style export) do not count: they are not bad rows. The message names the
    entity, the share, the main reasons with the files and the first row of each, what each reason
    means and the setting that fixes it (quarantine_reason_hints), and where the rows are. -#}
{% macro check_quarantine_share(relation, entity) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set threshold = var('max_quarantine_share') | float -%}
    {%- set not_bad = "'superseded_by_later_file', 'continuation_row'" -%}
    {%- set summary_query -%}
        select
            count(*) as raw_rows,
            sum(case when quarantine_reason is not null
                and quarantine_reason not in ({{ not_bad }}) then 1 else 0 end) as bad_rows
        from {{ relation }}
    {%- endset -%}
    {%- set summary = run_query(summary_query).rows[0] -%}
    {%- set raw_rows = summary[0] | int -%}
    {%- set bad_rows = (summary[1] or 0) | int -%}
    {%- if raw_rows > 0 and bad_rows / raw_rows > threshold -%}
        {%- set detail_query -%}
            select source_file, quarantine_reason, count(*) as rows_count, min(source_row_number) as first_row
            from {{ relation }}
            where quarantine_reason is not null and quarantine_reason not in ({{ not_bad }})
            group by source_file, quarantine_reason
            order by rows_count desc, source_file, quarantine_reason
            limit 10
        {%- endset -%}
        {%- set hints = quarantine_reason_hints(entity) -%}
        {%- set lines = [] -%}
        {%- for row in run_query(detail_query).rows -%}
            {%- set hint = hints.get(row[1]) -%}
            {%- do lines.append('  ' ~ row[0] ~ ': ' ~ row[2] ~ ' x ' ~ row[1] ~ ' (first at row ' ~ row[3] ~ ')'
                ~ (': ' ~ hint if hint else '')) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            'Quality gate: ' ~ bad_rows ~ ' of ' ~ raw_rows ~ ' ' ~ entity ~ ' rows ('
            ~ '%.2f' | format(100.0 * bad_rows / raw_rows) ~ '%) were quarantined, above max_quarantine_share='
            ~ threshold ~ '. Largest causes (file: rows x reason):\n' ~ lines | join('\n')
            ~ '\nEvery row and its reason is in ' ~ relation ~ ' (quarantine_reason is not null).') }}
    {%- endif -%}
    {{ return('select 1') }}
{% endmacro %}
