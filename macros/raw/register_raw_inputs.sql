{#- Exposes the input files as views raw.<entity> (every column as text, plus source_file,
    source_row_number, read_error and the typed values of macros/raw/input_contract.sql
    typed_input_columns) before each invocation. On engines that cannot read files directly the raw
    tables are loaded by scripts/load_raw.py instead and this hook does nothing. -#}
{% macro register_raw_inputs() %}
    {{ return(adapter.dispatch('register_raw_inputs', 'loyalty_segments')()) }}
{% endmacro %}


{% macro default__register_raw_inputs() %}
    {{ return('') }}
{% endmacro %}


{% macro duckdb__register_raw_inputs() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set data_dir = input_data_dir() -%}
    {%- set raw_schema = var('raw_schema') -%}
    {%- set statements = ['create schema if not exists ' ~ raw_schema] -%}
    {%- set format_document = input_format_document() -%}
    {%- for entity, spec in input_contract().items() -%}
        {%- set fmt = input_format(entity, format_document) -%}
        {%- set files = list_input_files(data_dir, entity) -%}
        {%- if files | length == 0 and spec.required -%}
            {{ exceptions.raise_compiler_error(
                "Input contract: no '" ~ entity ~ "' data in LOYALTY_DATA_DIR=" ~ data_dir
                ~ ". Expected " ~ entity ~ ".csv, " ~ entity ~ ".parquet or a folder " ~ entity ~ "/ of such files.") }}
        {%- endif -%}
        {%- set selects = [] -%}
        {%- for file in files -%}
            {%- do selects.append(raw_file_select(data_dir, entity, spec.columns, file, fmt)) -%}
        {%- endfor -%}
        {%- if selects | length == 0 -%}
            {%- set empty_columns = [] -%}
            {%- for column in spec.columns -%}
                {%- do empty_columns.append('cast(null as varchar) as ' ~ column[0]) -%}
            {%- endfor -%}
            {%- do selects.append('select cast(null as varchar) as source_file, cast(null as bigint) as source_row_number, '
                ~ empty_columns | join(', ') ~ ', cast(null as varchar) as read_error'
                ~ raw_typed_values(entity, fmt, {}) ~ ' where false') -%}
        {%- endif -%}
        {%- do statements.append('create or replace view ' ~ raw_schema ~ '.' ~ entity ~ ' as\n'
            ~ selects | join('\nunion all\n')) -%}
    {%- endfor -%}
    {{ return(statements | join(';\n') ~ ';') }}
{% endmacro %}


{#- Files of one entity: <dir>/<entity>.<ext> and everything below <dir>/<entity>/. Names starting
    with '.' or '_' (_SUCCESS markers, hidden files) are skipped; any other unknown extension stops
    the build, so that no file is silently ignored. -#}
{% macro list_input_files(data_dir, entity) %}
    {%- set query -%}
        select file from glob('{{ data_dir | replace("'", "''") }}/{{ entity }}.*')
        union all
        select file from glob('{{ data_dir | replace("'", "''") }}/{{ entity }}/**')
        order by file
    {%- endset -%}
    {%- set files = [] -%}
    {%- for file in run_query(query).columns[0].values() -%}
        {%- set name = file.split('/')[-1] -%}
        {%- if name.startswith('.') or name.startswith('_') -%}
        {%- elif input_file_format(file) is none -%}
            {{ exceptions.raise_compiler_error(
                "Input contract: cannot read '" ~ input_relative_path(data_dir, file) ~ "' in LOYALTY_DATA_DIR=" ~ data_dir
                ~ ": expected .csv, .csv.gz, .tsv, .txt or .parquet (a spreadsheet is saved as CSV first; files"
                ~ " whose name starts with '.' or '_' are skipped)") }}
        {%- else -%}
            {%- do files.append(file) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}


{% macro input_file_format(file) %}
    {%- set lowered = file.lower() -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {{ return('parquet') }}
    {%- elif lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv')
        or lowered.endswith('.txt') -%}
        {{ return('csv') }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{% endmacro %}


