{#- The path of a UTF-8 copy of a latin-1, cp1252 or UTF-16 input file, made by the project's
    dbt-duckdb plugin (plugins/loyalty_segments_duckdb.py, named in profiles/profiles.yml). DuckDB
    reads latin-1 only without bytes 0x80-0x9f, which cp1252 files use for the euro sign and
    quotes, and UTF-16 only little-endian. -#}
{% macro transcode_input_file(relative, entity, file, encoding) %}
    {%- if not plugin_function_available('loyalty_transcode_to_utf8') -%}
        {{ exceptions.raise_compiler_error(
            "Input format: " ~ entity ~ ".encoding = " ~ encoding ~ " (file '" ~ relative ~ "') needs the project's"
            ~ " dbt-duckdb plugin, which this profile does not load. Add to the duckdb output of your profile:"
            ~ " module_paths: [<the project>/plugins] and plugins: [{module: loyalty_segments_duckdb}]"
            ~ " (as profiles/profiles.yml does), or convert the file to UTF-8 (iconv -f " ~ encoding ~ " -t utf-8).") }}
    {%- endif -%}
    {{ return(run_query("select loyalty_transcode_to_utf8('" ~ file | replace("'", "''") ~ "', '" ~ encoding ~ "')")
        .columns[0].values()[0]) }}
{% endmacro %}


{#- Whether the project's dbt-duckdb plugin registered a function on this connection. -#}
{% macro plugin_function_available(name) %}
    {{ return(run_query("select count(*) > 0 from duckdb_functions() where function_name = '" ~ name ~ "'")
        .columns[0].values()[0]) }}
{% endmacro %}
