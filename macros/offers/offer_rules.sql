{#- Small helpers of the offers stage: reading the catalog's '|'-separated target lists, turning
    list vars into SQL and checking the offers vars once, at compile time. -#}

{#- True when a '|'-separated list column is empty (null or '', meaning "any") or contains the
    value; null (not true) when the value is null, so a customer without a value never matches a
    non-empty list. Portable: position() over the list wrapped in delimiters. -#}
{% macro offer_list_matches(list_column, value_expression) -%}
    ({{ list_column }} is null or {{ list_column }} = ''
        or {{ dbt.position(dbt.concat(["'|'", value_expression, "'|'"]), dbt.concat(["'|'", list_column, "'|'"])) }} > 0)
{%- endmacro %}

{#- True when a '|'-separated list column names the literal element (false for null or ''). -#}
{% macro offer_list_has(list_column, element) -%}
    coalesce({{ dbt.position("'|" ~ element ~ "|'", dbt.concat(["'|'", list_column, "'|'"])) }} > 0, false)
{%- endmacro %}

{#- `expression in ('a', 'b')` for a list var; `false` when the list is empty. -#}
{% macro offer_in_list(expression, values) -%}
    {%- if values is string or values is mapping or values is not iterable -%}
        {{ exceptions.raise_compiler_error("offer_in_list: expected a list, got " ~ values) }}
    {%- endif -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ expression }} in (
            {%- for value in values -%}
                '{{ dbt.escape_single_quotes(value | string) }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#- The customer values an offer message can be personalised with (var offer_personalised_fields). -#}
{% macro offer_personalisation_fields() -%}
    {{ return(['amount_to_top_ltv', 'favourite_category', 'usual_purchase_weekday', 'orders_count']) }}
{%- endmacro %}

{#- The customer value that personalises an offer's message, by offer id (var
    offer_personalised_fields); null for offers without one. -#}
{% macro offer_personalised_field(offer_id_expression) -%}
    {%- set fields = var('offer_personalised_fields') -%}
    {%- if fields | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        case {{ offer_id_expression }}
            {%- for offer_id, field in fields.items() %}
            when '{{ offer_id }}' then '{{ field }}'
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}

{#- Stops the build with a clear message when an offers var is out of its allowed range. -#}
{% macro validate_offer_vars() %}
    {%- set errors = [] -%}
    {%- set share = var('offer_cashback_max_aov_share') | float -%}
    {%- set ceiling = var('offer_cashback_aov_share_ceiling') | float -%}
    {%- if share <= 0 or share > ceiling -%}
        {%- do errors.append("offer_cashback_max_aov_share must be in (0, " ~ ceiling ~ "] (offer_cashback_aov_share_ceiling), got " ~ share) -%}
    {%- endif -%}
    {%- set holdout = var('offer_holdout_share') | float -%}
    {%- if holdout < 0 or holdout >= 1 -%}
        {%- do errors.append("offer_holdout_share must be in [0, 1), got " ~ holdout) -%}
    {%- endif -%}
    {%- set breakage = var('offer_points_breakage_share') | float -%}
    {%- if breakage < 0 or breakage >= 1 -%}
        {%- do errors.append("offer_points_breakage_share must be in [0, 1), got " ~ breakage) -%}
    {%- endif -%}
    {%- if var('offer_unknown_consent') not in ('allow', 'deny') -%}
        {%- do errors.append("offer_unknown_consent must be 'allow' or 'deny', got '" ~ var('offer_unknown_consent') ~ "'") -%}
    {%- endif -%}
    {%- for name in ['offer_cap_window_days', 'offer_max_personal_offers', 'offer_max_early_access_events',
                     'offer_max_cashback_offers', 'offer_revenue_base_days', 'offer_expected_value_horizon_days',
                     'offer_measurement_window_days', 'offer_measurement_min_sends', 'offer_holdout_share_max_z'] -%}
        {%- set value = var(name) -%}
        {%- if value is not integer or value is boolean or value < 1 -%}
            {%- do errors.append(name ~ " must be an integer of at least 1, got " ~ value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['offer_protected_value_tiers', 'offer_buy_x_get_y_offer_ids'] -%}
        {%- set value = var(name) -%}
        {%- if value is string or value is mapping or value is not iterable -%}
            {%- do errors.append(name ~ " must be a list, got " ~ value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set fields = var('offer_personalised_fields') -%}
    {%- if fields is not mapping -%}
        {%- do errors.append("offer_personalised_fields must map offer ids to fields, got " ~ fields) -%}
    {%- else -%}
        {%- for offer_id, field in fields.items() -%}
            {%- if field not in offer_personalisation_fields() -%}
                {%- do errors.append("offer_personalised_fields." ~ offer_id ~ ": unknown field '" ~ field
                    ~ "' (one of " ~ offer_personalisation_fields() | join(', ') ~ ")") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if errors | length > 0 -%}
        {{ exceptions.raise_compiler_error("Invalid offers vars:\n  - " ~ errors | join("\n  - ")) }}
    {%- endif -%}
{% endmacro %}
