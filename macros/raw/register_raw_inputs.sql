{#- Exposes the input files as views raw.<entity> (every column as text, plus source_file and
    source_row_number) before each invocation. On engines that cannot read files directly the raw
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
    {%- for entity, spec in input_contract().items() -%}
        {%- set files = list_input_files(data_dir, entity) -%}
        {%- if files | length == 0 and spec.required -%}
            {{ exceptions.raise_compiler_error(
                "Input contract: no '" ~ entity ~ "' data in LOYALTY_DATA_DIR=" ~ data_dir
                ~ ". Expected " ~ entity ~ ".csv, " ~ entity ~ ".parquet or a folder " ~ entity ~ "/ of such files.") }}
        {%- endif -%}
        {%- set selects = [] -%}
        {%- for file in files -%}
            {%- do selects.append(raw_file_select(data_dir, entity, spec.columns, file)) -%}
        {%- endfor -%}
        {%- if selects | length == 0 -%}
            {%- set empty_columns = [] -%}
            {%- for column in spec.columns -%}
                {%- do empty_columns.append('cast(null as varchar) as ' ~ column[0]) -%}
            {%- endfor -%}
            {%- do selects.append('select cast(null as varchar) as source_file, cast(null as bigint) as source_row_number, '
                ~ empty_columns | join(', ') ~ ', cast(null as varchar) as read_error where false') -%}
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
        select file from glob('{{ data_dir }}/{{ entity }}.*')
        union all
        select file from glob('{{ data_dir }}/{{ entity }}/**')
        order by file
    {%- endset -%}
    {%- set files = [] -%}
    {%- for file in run_query(query).columns[0].values() -%}
        {%- set name = file.split('/')[-1] -%}
        {%- if name.startswith('.') or name.startswith('_') -%}
        {%- elif input_file_format(file) is none -%}
            {{ exceptions.raise_compiler_error(
                "Input contract: cannot read '" ~ file ~ "': expected .csv, .csv.gz, .tsv or .parquet") }}
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


{#- One file as text columns in contract order. Column names match case-insensitively; a missing
    required column stops the build naming the file and the column; a missing optional column is
    null. CSV: the header is the first line and every later line is a row. DuckDB's sniffer would
    otherwise guess '#' as a comment character when ids start with it (Shopify's '#1001'), dropping
    those rows or all of them, and guess lines to skip before the header; both are pinned
    (comment = '' is none, skip = 0). The delimiter, quoting and line ending are still detected. -#}
{% macro raw_file_select(data_dir, entity, columns, file) %}
    {%- set file_sql = file | replace("'", "''") -%}
    {%- if input_file_format(file) == 'parquet' -%}
        {%- set reader = "read_parquet('" ~ file_sql ~ "', file_row_number = true)" -%}
        {%- set row_number = 'file_row_number + 1' -%}
    {%- else -%}
        {%- set reader = "read_csv('" ~ file_sql ~ "', all_varchar = true, header = true, comment = '', skip = 0)" -%}
        {%- set row_number = 'row_number() over ()' -%}
    {%- endif -%}
    {%- set present = {} -%}
    {%- for row in run_query('describe select * from ' ~ reader) -%}
        {%- do present.update({row[0] | lower | trim: row[0]}) -%}
    {%- endfor -%}
    {%- set select_list = [] -%}
    {%- for column in columns -%}
        {%- if column[0] in present -%}
            {%- do select_list.append('cast("' ~ present[column[0]] ~ '" as varchar) as ' ~ column[0]) -%}
        {%- elif column[1] -%}
            {%- set hint = '' -%}
            {%- if present | length == 1 and input_file_format(file) == 'csv' -%}
                {%- set hint = ' (the whole header was read as one column: the first line must be the header,'
                    ~ ' the delimiter one of , ; tab |, and every row must have as many fields as the header)' -%}
            {%- endif -%}
            {{ exceptions.raise_compiler_error(
                "Input contract: file '" ~ file ~ "' (" ~ entity ~ ") has no required column '" ~ column[0]
                ~ "'. Columns found: " ~ present.values() | list | join(', ') ~ hint) }}
        {%- else -%}
            {%- do select_list.append('cast(null as varchar) as ' ~ column[0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set relative = file[data_dir | length + 1:] if file.startswith(data_dir ~ '/') else file -%}
    {{ return("select '" ~ relative | replace("'", "''") ~ "' as source_file, cast(" ~ row_number
        ~ " as bigint) as source_row_number, " ~ select_list | join(', ') ~ ', cast(null as varchar) as read_error from ' ~ reader) }}
{% endmacro %}
