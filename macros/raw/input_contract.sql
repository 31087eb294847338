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


{#- The raw data folder: LOYALTY_DATA_DIR, by default the generated demo in data/demo. -#}
{% macro input_data_dir() %}
    {{ return(env_var('LOYALTY_DATA_DIR', 'data/demo').rstrip('/')) }}
{% endmacro %}
