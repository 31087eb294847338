{#- Reads the input folder with this project's reader and writes what the raw views hold to
    <out_dir>/<entity>.parquet, plus <out_dir>/input_files.parquet (every input file with its size,
    modification time and md5). Run by scripts/load_raw.py on a scratch DuckDB database, so that
    PostgreSQL and Spark get the same rows, row numbers and read errors as DuckDB, from the same
    code: `dbt run-operation export_raw_inputs --target duckdb --args '{out_dir: ...}'`. -#}
{% macro export_raw_inputs(out_dir) %}
    {%- if target.type != 'duckdb' -%}
        {{ exceptions.raise_compiler_error(
            'export_raw_inputs reads the files with DuckDB: run it with --target duckdb (scripts/load_raw.py does)') }}
    {%- endif -%}
    {%- set out = out_dir | replace("'", "''") -%}
    {%- do run_query(register_raw_inputs()) -%}
    {%- for entity in input_contract() -%}
        {#- text only, as the other engines parse it (their raw_typed_value is a typed null) -#}
        {%- set typed = [] -%}
        {%- for column in typed_input_columns(entity) -%}{%- do typed.append(column ~ '__value') -%}{%- endfor -%}
        {%- set columns = '* exclude (' ~ typed | join(', ') ~ ')' if typed else '*' -%}
        {%- do run_query('copy (select ' ~ columns ~ ' from ' ~ var('raw_schema') ~ '.' ~ entity ~ ') to \''
            ~ out ~ '/' ~ entity ~ '.parquet\' (format parquet)') -%}
    {%- endfor -%}
    {%- set rows = input_file_rows(input_files_now()) -%}
    {%- set files_query -%}
        select * from (values {{ rows | join(', ') if rows else "('', '', 0, now(), '', now())" }})
            as files (entity, source_file, size_bytes, modified_at, content_hash, hashed_at)
        {{ '' if rows else 'where false' }}
    {%- endset -%}
    {%- do run_query('copy (' ~ files_query ~ ') to \'' ~ out ~ '/input_files.parquet\' (format parquet)') -%}
    {{ log('Raw inputs read from ' ~ input_data_dir() ~ ' into ' ~ out_dir, info=true) }}
{% endmacro %}
