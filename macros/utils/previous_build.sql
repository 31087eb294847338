{#- The table a model built on its previous run, for a model that reuses what it computed then
    (meta reuses_previous_build; docs/decisions.md, "Customer facts reuse the previous night's"):
    only while the model itself executes, not under --full-refresh, and only when that table
    exists and carries batch_loaded_at (a table of an older version of the model does not). None
    otherwise, and the model computes everything. The input-state hook drops such a model when its
    code, vars or inputs changed, as it drops the incremental models. Dispatched: none on Spark,
    which cannot read a table while it overwrites it. -#}
{% macro previous_build(relation) %}
    {{ return(adapter.dispatch('previous_build', 'loyalty_segments')(relation)) }}
{% endmacro %}

{% macro default__previous_build(relation) %}
    {%- if not execute or flags.FULL_REFRESH or model.resource_type != 'model' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set existing = load_relation(relation) -%}
    {%- if existing is none or not existing.is_table -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
    {{ return(existing if 'batch_loaded_at' in columns else none) }}
{% endmacro %}
