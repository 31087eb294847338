{#- A predicate on source_file selecting the input files of `entity` that `relation` (an
    incremental base model) has not loaded yet. Input files are treated as immutable: new data
    arrives as new files (a correction is a row in a later file). On DuckDB the file list comes from
    the folder itself, so the filter is a list of constants and the raw view reads only new files;
    elsewhere it compares with the loaded files. -#}
{% macro unloaded_files_filter(entity, relation) %}
    {{ return(adapter.dispatch('unloaded_files_filter', 'loyalty_segments')(entity, relation)) }}
{% endmacro %}

{% macro default__unloaded_files_filter(entity, relation) -%}
    source_file not in (select distinct loaded.source_file from {{ relation }} as loaded)
{%- endmacro %}

{% macro duckdb__unloaded_files_filter(entity, relation) -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set data_dir = input_data_dir() -%}
    {%- set loaded = run_query('select distinct source_file from ' ~ relation).columns[0].values() -%}
    {%- set new_files = [] -%}
    {%- for file in list_input_files(data_dir, entity) -%}
        {%- set relative = input_relative_path(data_dir, file) -%}
        {%- if relative not in loaded -%}
            {%- do new_files.append("'" ~ relative | replace("'", "''") ~ "'") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if new_files | length == 0 -%}
        false
    {%- else -%}
        source_file in ({{ new_files | join(', ') }})
    {%- endif -%}
{%- endmacro %}
