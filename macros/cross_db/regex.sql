{#- Regular expressions and time conversions, the few functions the parsers of macros/staging/
    parse_text.sql need, per engine. Patterns are written once in RE2 syntax (DuckDB's), as SQL
    literal text (quotes doubled): \d, (?:...), {m,n}, [a-z] and \x{HHHH} for a code point.
    PostgreSQL reads them as advanced regular expressions once \x{HHHH} is written \uHHHH; Spark
    (Java) reads them as they are, with $1 for \1 in replacements. -#}

{#- Whether the whole text matches the pattern. -#}
{% macro regex_full_match(text, pattern) %}
    {{ return(adapter.dispatch('regex_full_match', 'loyalty_segments')(text, pattern)) }}
{% endmacro %}

{% macro default__regex_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regex_full_match(text, pattern) -%}
    ({{ text }} ~ '^(?:{{ postgres_pattern(pattern) }})$')
{%- endmacro %}

{% macro spark__regex_full_match(text, pattern) -%}
    ({{ text }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}


{#- Capture group `group` of the first match, or empty text when nothing matches. -#}
{% macro regex_extract(text, pattern, group) %}
    {{ return(adapter.dispatch('regex_extract', 'loyalty_segments')(text, pattern, group)) }}
{% endmacro %}

{% macro default__regex_extract(text, pattern, group) -%}
    regexp_extract({{ text }}, '{{ pattern }}', {{ group }})
{%- endmacro %}

{% macro postgres__regex_extract(text, pattern, group) -%}
    coalesce((regexp_match({{ text }}, '{{ postgres_pattern(pattern) }}'))[{{ group }}], '')
{%- endmacro %}


{#- Every match replaced; \1..\9 in the replacement are capture groups. -#}
{% macro regex_replace_all(text, pattern, replacement) %}
    {{ return(adapter.dispatch('regex_replace_all', 'loyalty_segments')(text, pattern, replacement)) }}
{% endmacro %}

{% macro default__regex_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro postgres__regex_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ postgres_pattern(pattern) }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ modules.re.sub("\\\\(\\d)", "$\\1", replacement) }}')
{%- endmacro %}


{#- \x{HH} and \x{HHHH} as PostgreSQL's \uHHHH. -#}
{% macro postgres_pattern(pattern) -%}
    {%- set padded = modules.re.sub('\\\\x\\{([0-9A-Fa-f]{2})\\}', '\\\\x{00\\1}', pattern) -%}
    {{ modules.re.sub('\\\\x\\{([0-9A-Fa-f]{4})\\}', '\\\\u\\1', padded) }}
{%- endmacro %}


{#- A naive local time in `zone` (an IANA name) as the naive UTC time of the same instant. -#}
{% macro local_time_to_utc(timestamp_expr, zone) %}
    {{ return(adapter.dispatch('local_time_to_utc', 'loyalty_segments')(timestamp_expr, zone)) }}
{% endmacro %}

{% macro default__local_time_to_utc(timestamp_expr, zone) -%}
    timezone('UTC', timezone('{{ zone | replace("'", "''") }}', {{ timestamp_expr }}))
{%- endmacro %}

{% macro spark__local_time_to_utc(timestamp_expr, zone) -%}
    to_utc_timestamp({{ timestamp_expr }}, '{{ zone | replace("'", "''") }}')
{%- endmacro %}


{#- Microseconds since the Unix epoch as a naive UTC timestamp. -#}
{% macro timestamp_from_epoch_micros(micros_expr) %}
    {{ return(adapter.dispatch('timestamp_from_epoch_micros', 'loyalty_segments')(micros_expr)) }}
{% endmacro %}

{% macro default__timestamp_from_epoch_micros(micros_expr) -%}
    make_timestamp({{ micros_expr }})
{%- endmacro %}

{% macro postgres__timestamp_from_epoch_micros(micros_expr) -%}
    (timestamp '1970-01-01' + ({{ micros_expr }}) * interval '1 microsecond')
{%- endmacro %}

{% macro spark__timestamp_from_epoch_micros(micros_expr) -%}
    timestamp_micros({{ micros_expr }})
{%- endmacro %}


{#- Whether the engine knows the time zone `zone` (a query returning one count). -#}
{% macro time_zone_count_query(zone) %}
    {{ return(adapter.dispatch('time_zone_count_query', 'loyalty_segments')(zone)) }}
{% endmacro %}

{% macro default__time_zone_count_query(zone) -%}
    select count(*) from pg_timezone_names() where name = '{{ zone | replace("'", "''") }}'
{%- endmacro %}

{% macro postgres__time_zone_count_query(zone) -%}
    select count(*) from pg_timezone_names where name = '{{ zone | replace("'", "''") }}'
{%- endmacro %}
