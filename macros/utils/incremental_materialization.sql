{#- The materialization of the incremental models: `incremental` (delete+insert by their unique_key,
    see docs/decisions.md) where the engine has that strategy; a table rebuilt from all its input on
    every run where it has not (Spark: no delete+insert, and Parquet tables take no DELETE). As a
    table, is_incremental() is false and the model selects every row, so the result is the same. -#}
{% macro incremental_materialization() %}
    {{ return(adapter.dispatch('incremental_materialization', 'loyalty_segments')()) }}
{% endmacro %}

{% macro default__incremental_materialization() %}
    {{ return('incremental') }}
{% endmacro %}


{#- Post-hook of an incremental model: deletes the placeholder rows an incremental run leaves to
    replace old versions (delete+insert), which a full build never produces. Nothing to do where
    the model is a table (incremental_materialization). -#}
{% macro delete_placeholder_rows(relation, condition) %}
    {{ return(adapter.dispatch('delete_placeholder_rows', 'loyalty_segments')(relation, condition)) }}
{% endmacro %}

{% macro default__delete_placeholder_rows(relation, condition) %}
    {%- if incremental_materialization() != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('delete from ' ~ relation ~ ' where ' ~ condition) }}
{% endmacro %}
