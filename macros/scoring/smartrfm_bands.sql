{#- The SmartRFM recency and frequency bands (articles: potential-vip-segments,
    potentially-loyal-segments), written once: int_customer_rfm_scored bands customers as of a score
    date, int_offer_sends_measured bands a recipient as of the day before a send. -#}
{% macro smartrfm_recency_band(days_since_purchase) -%}
    case
        when {{ days_since_purchase }} <= {{ var('smartrfm_recent_max_days') }} then 'recent'
        when {{ days_since_purchase }} <= {{ var('smartrfm_medium_max_days') }} then 'medium'
        else 'long_ago'
    end
{%- endmacro %}

{% macro smartrfm_frequency_band(purchase_orders) -%}
    case
        when {{ purchase_orders }} <= {{ var('smartrfm_once_max_orders') }} then 'once'
        when {{ purchase_orders }} <= {{ var('smartrfm_sometimes_max_orders') }} then 'sometimes'
        else 'often'
    end
{%- endmacro %}
