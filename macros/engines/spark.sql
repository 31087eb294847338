{#- Spark (dbt-spark) implementations of the project's dispatched macros, in one place. Each says
    why Spark needs its own. The profile's spark target runs with
    spark.sql.parser.escapedStringLiterals=true, so a backslash in a string literal is a backslash,
    as on DuckDB and PostgreSQL (the patterns of macros/cross_db/regex.sql are written once). -#}


{#- Spark cannot read the input folder the way DuckDB does (CSV dialects, encodings, damaged rows):
    scripts/load_raw.py reads it with DuckDB and writes <LOYALTY_RAW_EXPORT_DIR>/<entity>.parquet
    (default data/work/raw_export, relative to the project root, dbt's working directory). The hook
    makes views raw.<entity> over those files, after checking that every file is there: a missing
    one stops the build with the command that writes them (Spark's own error, a missing path, would
    not say). -#}
{% macro spark__register_raw_inputs() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set export_dir = env_var('LOYALTY_RAW_EXPORT_DIR', 'data/work/raw_export') | trim -%}
    {%- set export_dir = export_dir.rstrip('/') if export_dir != '/' else export_dir -%}
    {%- set raw_schema = var('raw_schema') -%}
    {%- set names = (input_contract().keys() | list) + ['input_files'] -%}
    {#- The JVM's working directory is dbt's (the project root): relative paths resolve against it. -#}
    {%- set working_dir = run_query("select reflect('java.lang.System', 'getProperty', 'user.dir')").rows[0][0] -%}
    {%- set absolute_dir = export_dir if export_dir.startswith('/') else working_dir.rstrip('/') ~ '/' ~ export_dir -%}
    {#- Whether each file is there, asked without reading it: Spark SQL has no file test, and reading
        a missing path is an error no macro can catch. try_reflect gives null where the called method
        throws: here commons-io's freeSpaceKb (on Spark's class path), which throws for a missing path.
        dbt_project.yml in the working directory is always there: were the probe itself to find
        nothing, there is no check, and Spark's own error names the missing path. -#}
    {%- set probes = [] -%}
    {%- for path in [working_dir ~ '/dbt_project.yml'] + names -%}
        {%- set full = path if loop.first else absolute_dir ~ '/' ~ path ~ '.parquet' -%}
        {%- do probes.append("try_reflect('org.apache.commons.io.FileSystemUtils', 'freeSpaceKb', '"
            ~ spark__escape_single_quotes(full) ~ "') is not null") -%}
    {%- endfor -%}
    {%- set present = run_query('select ' ~ probes | join(', ')).rows[0] -%}
    {%- set missing = [] -%}
    {%- if present[0] -%}
        {%- for name in names -%}
            {%- if not present[loop.index] -%}
                {%- do missing.append(name ~ '.parquet') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if missing | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            'Raw inputs for Spark not found: ' ~ missing | join(', ') ~ ' missing in LOYALTY_RAW_EXPORT_DIR='
            ~ absolute_dir ~ '. Spark reads the input folder through Parquet files written by the project\'s'
            ~ ' reader: run `python scripts/load_raw.py --target spark` first (with the same LOYALTY_DATA_DIR,'
            ~ ' LOYALTY_RAW_EXPORT_DIR and input format as this build), then dbt again.') }}
    {%- endif -%}
    {#- Spark runs one statement per call: the statements run here, and the hook itself is empty. -#}
    {%- do run_query('create schema if not exists ' ~ raw_schema) -%}
    {%- for name in names -%}
        {%- do run_query('create or replace view ' ~ raw_schema ~ '.' ~ name
            ~ ' as select * from parquet.`file://' ~ absolute_dir ~ '/' ~ name ~ '.parquet`') -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}


{#- dbt-spark has no delete+insert strategy, and its Parquet tables reject DELETE (and MERGE, which
    needs Delta or Iceberg, which this project does not require): the incremental models are tables
    rebuilt from all their input on every Spark run. Their post-hook deleting placeholder rows then
    has nothing to do (default__delete_placeholder_rows). -#}
{% macro spark__incremental_materialization() %}
    {{ return('table') }}
{% endmacro %}


{#- A text value as the inside of a Spark string literal. The profile's
    spark.sql.parser.escapedStringLiterals=true (for the regular expressions) reads a literal as
    written, so neither '' nor \' stands for a quote there: a quote is written as an adjacent
    double-quoted literal, which Spark joins ('they' "'" 're' is they're). Used by dbt for unit-test
    fixtures (dbt-spark's own version writes \', which this setting keeps as two characters), and by
    the seeds, offer_in_list and offer_holdout_bucket here. -#}
{% macro spark__escape_single_quotes(expression) -%}
    {{ expression | replace("'", "'\"'\"'") }}
{%- endmacro %}


{#- Seeds as SQL literals. dbt-spark's loader binds each value as '<value>' without escaping, so a
    value with a quote (Can't Lose Them) breaks the statement, and an empty cell becomes the text
    'None' instead of null. Here an empty cell is null, a number is written as it is in the file,
    a boolean as true/false and text through spark__escape_single_quotes. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set rows = [] -%}
        {%- for row in chunk -%}
            {%- set values = [] -%}
            {%- for value in row -%}
                {%- if value is none -%}
                    {%- set literal = 'null' -%}
                {%- elif value is sameas true or value is sameas false -%}
                    {%- set literal = 'true' if value else 'false' -%}
                {%- elif value is number -%}
                    {%- set literal = value | string -%}
                {%- else -%}
                    {%- set literal = "'" ~ spark__escape_single_quotes(value | string) ~ "'" -%}
                {%- endif -%}
                {%- do values.append('cast(' ~ literal ~ ' as ' ~ types[loop.index0] ~ ')') -%}
            {%- endfor -%}
            {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values\n' ~ rows | join(',\n') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}


{#- dbt's accepted_values writes each value as '<value>', so the YAML doubles a quote in a value as
    standard SQL text (Can''t Lose Them); with escapedStringLiterals Spark would read both quotes.
    The value is un-doubled and written the Spark way (spark__escape_single_quotes). -#}
{% macro spark__test_accepted_values(model, column_name, values, quote=True) %}
with all_values as (

    select
        {{ column_name }} as value_field,
        count(*) as n_records

    from {{ model }}
    group by {{ column_name }}

)

select *
from all_values
where value_field not in (
    {% for value in values -%}
        {% if quote -%}
        '{{ spark__escape_single_quotes(value | string | replace("''", "'")) }}'
        {%- else -%}
        {{ value }}
        {%- endif -%}
        {%- if not loop.last -%},{%- endif %}
    {%- endfor %}
)
{% endmacro %}


{#- Whether Spark knows a time zone: it has no table of zone names (the default asks
    pg_timezone_names). to_utc_timestamp takes the zone ids of java.time, so ZoneId.of decides;
    try_reflect gives null for an unknown id. -#}
{% macro spark__time_zone_count_query(zone) -%}
    select count(*) from (select 1 as one) as probe
    where try_reflect('java.time.ZoneId', 'of', '{{ spark__escape_single_quotes(zone) }}') is not null
{%- endmacro %}


{#- Spark averages a decimal(18, 4) as a decimal(22, 8), so the double made of it keeps 8
    decimals (505.14906553 where DuckDB has 505.1490655265831). The sum (exact) divided with 18
    decimals is about 21 significant digits, which cast to double is the exact mean rounded to the
    nearest double, as DuckDB's. -#}
{% macro spark__avg_as_double(expression) -%}
    cast(cast(sum({{ expression }}) as decimal(38, 18)) / count({{ expression }}) as double)
{%- endmacro %}


{#- A Spark table cannot be read while it is overwritten: models that reuse their previous build
    compute everything (previous_build). -#}
{% macro spark__previous_build(relation) %}
    {{ return(none) }}
{% endmacro %}
