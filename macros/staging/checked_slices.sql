{#- Uniqueness checked on the new slice of an incremental table (docs/decisions.md, "Key tests of
    incremental tables check the rows loaded since they last passed").

    A unique_combination_of_columns test given new_rows_column (the table's batch_loaded_at)
    checks, once it has passed on the table, only the keys of rows loaded after the rows it passed
    on, counted over the whole table. Rows of earlier batches were unique among themselves when the
    test passed, and an incremental run never changes a row without giving it the run's
    batch_loaded_at, so a duplicate has at least one row in the new slice. The record is written
    at the end of a run (on-run-end), for each such test that passed: the latest batch_loaded_at of
    its table then. A test that failed, errored or was skipped records nothing, so the next run
    checks its slice again with the rows loaded since. A table rebuilt in full (every row newer
    than the record) is checked whole, as it is when there is no record. Recorded in
    meta.checked_test_slices of the working database (DuckDB and PostgreSQL; on Spark the tables
    are rebuilt every run and the tests always check them whole). -#}


{#- The key under which a test's slice is recorded: its table, key columns and batch column. -#}
{% macro checked_slice_key(schema, identifier, columns, new_rows_column) %}
    {{ return(schema ~ '.' ~ identifier ~ ':' ~ columns | join(',') ~ ':' ~ new_rows_column) }}
{% endmacro %}


{#- SQL of the checked_through timestamp recorded for a key, when the table has rows recorded as
    checked and rows after them (the test then checks the new slice); none otherwise (the test
    checks the whole table). Asked while the test executes. -#}
{% macro checked_slice_watermark(model, columns, new_rows_column) %}
    {{ return(adapter.dispatch('checked_slice_watermark', 'loyalty_segments')(model, columns, new_rows_column)) }}
{% endmacro %}

{% macro default__checked_slice_watermark(model, columns, new_rows_column) %}
    {{ return(none) }}
{% endmacro %}

{% macro duckdb__checked_slice_watermark(model, columns, new_rows_column) %}
    {{ return(recorded_slice_watermark(model, columns, new_rows_column)) }}
{% endmacro %}

{% macro postgres__checked_slice_watermark(model, columns, new_rows_column) %}
    {{ return(recorded_slice_watermark(model, columns, new_rows_column)) }}
{% endmacro %}

{% macro recorded_slice_watermark(model, columns, new_rows_column) %}
    {%- if not execute or not meta_tables_exist(['checked_test_slices']) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set key = checked_slice_key(model.schema, model.identifier, columns, new_rows_column) -%}
    {%- set recorded -%}
        (select max(checked_through) from meta.checked_test_slices where test_key = '{{ key }}')
    {%- endset -%}
    {%- set query -%}
        select count(*) from {{ model }}
        where {{ new_rows_column }} <= {{ recorded }}
    {%- endset -%}
    {#- no row at or before the record: no record, or a table rebuilt since -#}
    {{ return(recorded if run_query(query).rows[0][0] > 0 else none) }}
{% endmacro %}


{#- on-run-end: records, for every key test with new_rows_column that passed in this run, the
    latest batch_loaded_at of its table. -#}
{% macro record_checked_slices(results) %}
    {{ return(adapter.dispatch('record_checked_slices', 'loyalty_segments')(results)) }}
{% endmacro %}

{% macro default__record_checked_slices(results) %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__record_checked_slices(results) %}
    {{ return(checked_slices_statements(results)) }}
{% endmacro %}

{% macro postgres__record_checked_slices(results) %}
    {{ return(checked_slices_statements(results)) }}
{% endmacro %}

{% macro checked_slices_statements(results) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set keys = [] -%}
    {%- set selects = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass'
        and result.node.test_metadata is defined and result.node.test_metadata is not none
        and result.node.test_metadata.name == 'unique_combination_of_columns'
        and (result.node.test_metadata.kwargs or {}).get('new_rows_column') -%}
        {%- set kwargs = result.node.test_metadata.kwargs -%}
        {%- set table = graph.nodes[result.node.attached_node] -%}
        {%- set key = checked_slice_key(table.schema, table.alias, kwargs.combination_of_columns,
            kwargs.new_rows_column) -%}
        {%- do keys.append("'" ~ key ~ "'") -%}
        {%- do selects.append("select '" ~ key ~ "', max(" ~ kwargs.new_rows_column ~ "), "
            ~ batch_loaded_at() ~ " from " ~ adapter.quote(table.database) ~ '.' ~ adapter.quote(table.schema) ~ '.' ~ adapter.quote(table.alias)) -%}
    {%- endfor -%}
    {%- if keys | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements -%}
        create schema if not exists meta;
        create table if not exists meta.checked_test_slices (
            test_key varchar(400), checked_through {{ dbt.type_timestamp() }}, checked_at {{ dbt.type_timestamp() }}
        );
        delete from meta.checked_test_slices where test_key in ({{ keys | join(', ') }});
        insert into meta.checked_test_slices
        {{ selects | join('\n        union all\n        ') }};
    {%- endset -%}
    {{ return(statements) }}
{% endmacro %}
