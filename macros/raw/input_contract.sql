{#- The input contract (README "Input contract"): for each entity, whether the file is required and
    its columns with a required flag. The raw views and the loaders for other engines are built
    from this one definition. -#}
{% macro input_contract() %}
    {{ return({
        'orders': {'required': true, 'columns': [
            ('order_id', true), ('customer_id', true), ('ordered_at', true), ('amount', true),
            ('currency', false), ('status', false), ('channel', false), ('discount_amount', false)]},
        'order_lines': {'required': false, 'columns': [
            ('order_id', true), ('product_id', true), ('quantity', true), ('amount', true),
            ('unit_price', false)]},
        'products': {'required': false, 'columns': [
            ('product_id', true), ('category', false), ('unit_cost', false), ('product_name', false)]},
        'customers': {'required': false, 'columns': [
            ('customer_id', true), ('signup_at', false), ('consent_email', false),
            ('consent_sms', false), ('consent_push', false)]},
        'events': {'required': false, 'columns': [
            ('customer_id', true), ('event_at', true), ('event_type', true), ('product_id', false)]},
        'offer_sends': {'required': false, 'columns': [
            ('send_id', true), ('customer_id', true), ('offer_id', true), ('sent_at', true),
            ('channel', false), ('is_holdout', false)]},
    }) }}
{% endmacro %}


{#- Contract columns read as typed values where a Parquet file already has a matching type: the raw
    view carries <column>__value next to the text (null for CSV files and for other types), and the
    base model takes that value instead of parsing the text. Kinds: 'timestamp' (Parquet TIMESTAMP
    of any unit or DATE, local time as the format's time_zone says, like text without an offset) and
    'money' (DECIMAL or an integer type). A timestamp with a time zone, a DOUBLE or a text column is
    read through its text, with the same quarantine reasons as a CSV file. Only the orders, the one
    input with millions of rows, take this path so far. -#}
{% macro typed_input_columns(entity) %}
    {{ return({
        'orders': {'ordered_at': 'timestamp', 'amount': 'money', 'discount_amount': 'money'},
    }.get(entity, {})) }}
{% endmacro %}


{#- <column>__value of the raw view (typed_input_columns) where raw views read the files (DuckDB),
    and a typed null elsewhere: the loaders of other engines (scripts/load_raw.py) load text only. -#}
{% macro raw_typed_value(column, kind) %}
    {%- if target.type == 'duckdb' -%}
        {{ return(column ~ '__value') }}
    {%- endif -%}
    {{ return('cast(null as ' ~ typed_kind_type(kind) ~ ')') }}
{% endmacro %}


{#- The SQL type of a kind of typed_input_columns. -#}
{% macro typed_kind_type(kind) %}
    {{ return(money_type() if kind == 'money' else dbt.type_timestamp()) }}
{% endmacro %}


{#- The raw data folder: LOYALTY_DATA_DIR, by default the generated demo in data/demo. -#}
{% macro input_data_dir() %}
    {{ return(env_var('LOYALTY_DATA_DIR', 'data/demo').rstrip('/')) }}
{% endmacro %}
