{#- The holdout bucket of a customer: the first 8 hex digits of md5(customer_id || salt) read as
    an unsigned integer, modulo `buckets` (10000 by default, so a bucket is 0.01% of customers).
    The same id and salt give the same bucket on every run and on every engine: md5 is standard,
    and each implementation only differs in how it turns hex text into an integer. Python:
    int(hashlib.md5((customer_id + salt).encode()).hexdigest()[:8], 16) % buckets. -#}
{% macro offer_holdout_bucket(expression, salt=none, buckets=10000) %}
    {%- set salt = var('offer_holdout_salt') if salt is none else salt -%}
    {%- if buckets is not integer or buckets < 1 -%}
        {{ exceptions.raise_compiler_error("offer_holdout_bucket: buckets must be a positive integer, got " ~ buckets) }}
    {%- endif -%}
    {%- set quoted_salt = "'" ~ dbt.escape_single_quotes(salt | string) ~ "'" -%}
    {{ return(adapter.dispatch('offer_holdout_bucket', 'loyalty_segments')(expression, quoted_salt, buckets)) }}
{% endmacro %}

{% macro default__offer_holdout_bucket(expression, quoted_salt, buckets) %}
    {{ exceptions.raise_compiler_error(
        "offer_holdout_bucket has no implementation for the " ~ target.type ~ " adapter; add one "
        ~ "in macros/offers/offer_holdout_bucket.sql that reads the first 8 hex digits of the md5") }}
{% endmacro %}

{#- DuckDB reads '0x...' text as a hexadecimal integer. -#}
{% macro duckdb__offer_holdout_bucket(expression, quoted_salt, buckets) -%}
    (cast('0x' || substr(md5(cast({{ expression }} as varchar) || {{ quoted_salt }}), 1, 8) as bigint) % {{ buckets }})
{%- endmacro %}

{#- PostgreSQL: hex text -> bit(64) -> bigint, left-padded so the value stays unsigned. -#}
{% macro postgres__offer_holdout_bucket(expression, quoted_salt, buckets) -%}
    (cast(cast('x' || lpad(substr(md5(cast({{ expression }} as text) || {{ quoted_salt }}), 1, 8), 16, '0') as bit(64)) as bigint) % {{ buckets }})
{%- endmacro %}

{#- Spark: conv() turns base-16 text into base-10 text. -#}
{% macro spark__offer_holdout_bucket(expression, quoted_salt, buckets) -%}
    (cast(conv(substr(md5(concat(cast({{ expression }} as string), {{ quoted_salt }})), 1, 8), 16, 10) as bigint) % {{ buckets }})
{%- endmacro %}
