{#- Reading the raw text of ids, timestamps and numbers as the input format (macros/raw/input_format.sql)
    says it is written. Every macro returns one SQL expression; text that does not fit the format is
    null, which the base models quarantine as unparseable_<column>. Nothing is guessed from the data:
    the format names the date order, the separators, the time zone and the epoch unit.

    One implementation for every engine, on the primitives of macros/cross_db/regex.sql
    (regex_full_match, regex_extract, regex_replace_all, local_time_to_utc,
    timestamp_from_epoch_micros) and cast_or_null: the same text is read the same way on DuckDB,
    PostgreSQL and Spark. -#}


{#- A timestamp as a naive timestamp in UTC, or null when the text does not parse.
    - ISO 8601 date and time ('2024-03-01', '2024-03-01 14:05', '2024-03-01T14:05:00.123') is read
      under every format. An offset after the time ('Z', 'UTC', 'GMT', '+02', '+0200', '+02:00',
      '-05:00', optionally after one space) is applied exactly.
    - date_order DMY / MDY also read day-first / month-first dates with '.', '/' or '-' between the
      parts (the same one twice) and a four-digit year: '01.03.2024', '1/3/2024 8:26', '01-03-2024',
      and a 12-hour clock with AM/PM after the time.
    - timestamp_unit epoch_seconds / epoch_milliseconds read a number ('1709251200', '1709251200.5')
      as Unix time (UTC), to the microsecond.
    - A time without an offset, and a date without a time (midnight), is local time in
      fmt.time_zone, converted to UTC with the zone's rules on that day (summer time included). -#}
{% macro parse_timestamp(text_expr, fmt) %}
    {{ return(adapter.dispatch('parse_timestamp', 'loyalty_segments')(text_expr, fmt)) }}
{% endmacro %}

{% macro default__parse_timestamp(text_expr, fmt) -%}
    {%- set order = fmt.date_order | default('YMD', true) -%}
    {%- set unit = fmt.timestamp_unit | default('text', true) -%}
    {%- set zone = input_time_zone(fmt) -%}
    {%- if execute and zone | upper not in ('UTC', 'ETC/UTC') -%}
        {%- set known = run_query(time_zone_count_query(zone)).columns[0].values()[0] -%}
        {%- if known == 0 -%}
            {%- set named_by = [] -%}
            {%- for entity, options in input_format_document().items() -%}
                {%- if options is mapping and (options.get('time_zone') or '') | string | trim == zone -%}
                    {%- do named_by.append(entity ~ '.time_zone in the input format file ' ~ input_format_path()
                        ~ ' (LOYALTY_INPUT_FORMAT)') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if named_by | length == 0 -%}
                {%- do named_by.append('var source_time_zone') -%}
            {%- endif -%}
            {{ exceptions.raise_compiler_error(
                "Unknown time zone '" ~ zone ~ "' (set by " ~ named_by | join(', ') ~ "): timestamps written"
                ~ " without an offset are read in this zone. Use an IANA name such as Europe/Berlin,"
                ~ " America/New_York or UTC.") }}
        {%- endif -%}
    {%- endif -%}
    {%- set text = '(' ~ text_expr ~ ')' -%}
    {%- set twelve_hour = order != 'YMD' -%}

    {#- The shapes accepted, checked on the whole text: a date, then optionally a time, then (only
        after a time) optionally an offset. A full match without capture groups is cheap; the usual
        text (no offset) needs nothing else before the cast. -#}
    {%- set dates = ['\\d{4}-\\d{1,2}-\\d{1,2}'] -%}
    {%- if order == 'YMD' -%}
        {%- do dates.append('\\d{4}/\\d{1,2}/\\d{1,2}') -%}
    {%- else -%}
        {%- do dates.extend(['\\d{1,2}\\.\\d{1,2}\\.\\d{4}', '\\d{1,2}/\\d{1,2}/\\d{4}', '\\d{1,2}-\\d{1,2}-\\d{4}']) -%}
    {%- endif -%}
    {%- set date_shape = '(?:' ~ dates | join('|') ~ ')' -%}
    {%- set time_shape = '[T ](?:(?:[01]?\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,9})?)?|24:00(?::00(?:\\.0{1,9})?)?)'
        ~ ('(?: ?[AaPp][Mm])?' if twelve_hour else '') -%}
    {%- set offset_shape = '(?:Z|z|UTC|GMT|[+-](?:0\\d|1[0-8])(?::?[0-5]\\d)?)' -%}
    {%- set local_shape = date_shape ~ '(?:' ~ time_shape ~ ')?' -%}
    {%- set offset_time_shape = date_shape ~ time_shape ~ ' ?' ~ offset_shape -%}

    {#- The offset at the end of a text of offset_time_shape, and the text before it. -#}
    {%- set offset_text = regex_extract(text, '(' ~ offset_shape ~ ')$', 1) | trim -%}
    {%- set before_offset = "rtrim(left(" ~ text ~ ", length(" ~ text ~ ") - length(" ~ offset_text ~ ")))" -%}
    {%- set offset_minutes = "case when " ~ offset_text ~ " in ('Z', 'z', 'UTC', 'GMT') then 0"
        ~ " else (case when " ~ offset_text ~ " like '-%' then -1 else 1 end)"
        ~ " * (cast(substr(" ~ offset_text ~ ", 2, 2) as integer) * 60"
        ~ " + coalesce(cast(nullif(substr(replace(" ~ offset_text ~ ", ':', ''), 4, 2), '') as integer), 0)) end" -%}

    {#- The local date and time (a text of local_shape) as a timestamp: for DMY / MDY the date is
        put in ISO order and a 12-hour time (1..12 with AM/PM) made 24-hour. -#}
    {%- set local_timestamps = {} -%}
    {%- for name, local in [('whole', text), ('before_offset', before_offset)] -%}
        {%- if twelve_hour -%}
            {%- set replacement = '\\3-\\2-\\1' if order == 'DMY' else '\\3-\\1-\\2' -%}
            {%- set parsed = cast_or_null(regex_replace_all(regex_replace_all(local, ' ?[AaPp][Mm]$', ''),
                '^(\\d{1,2})[./-](\\d{1,2})[./-](\\d{4})', replacement), dbt.type_timestamp()) | trim -%}
            {%- set hour = "extract(hour from " ~ parsed ~ ")" -%}
            {%- set shift = "(case when upper(" ~ local ~ ") like '%PM' then 12 else 0 end"
                ~ " - case when " ~ hour ~ " = 12 then 12 else 0 end)" -%}
            {%- set parsed = "case when upper(" ~ local ~ ") not like '%M' then " ~ parsed
                ~ " when " ~ hour ~ " between 1 and 12 then " ~ dbt.dateadd('hour', shift, parsed) | trim ~ " end" -%}
        {%- else -%}
            {%- set parsed = cast_or_null(local, dbt.type_timestamp()) | trim -%}
        {%- endif -%}
        {%- do local_timestamps.update({name: parsed}) -%}
    {%- endfor -%}

    {#- Local time in the zone to UTC (local_time_to_utc: DuckDB's ICU and PostgreSQL timezone(),
        Spark to_utc_timestamp), with the zone's rules on that day. A local time that does not exist (the hour
        skipped when summer time starts) is read with the offset before the change; one that occurs
        twice (the hour repeated when it ends) as the second occurrence. -#}
    {%- set local_in_zone = local_timestamps.whole -%}
    {%- if zone | upper not in ('UTC', 'ETC/UTC') -%}
        {%- set local_in_zone = local_time_to_utc(local_in_zone, zone) | trim -%}
    {%- endif -%}

    case
        {%- if unit == 'epoch_seconds' %}
        when {{ regex_full_match(text, '[+-]?\\d{1,11}(?:\\.\\d+)?') }}
            then {{ timestamp_from_epoch_micros('cast(cast(' ~ text ~ ' as decimal(38, 6)) * 1000000 as bigint)') }}
        {%- elif unit == 'epoch_milliseconds' %}
        when {{ regex_full_match(text, '[+-]?\\d{1,14}(?:\\.\\d+)?') }}
            then {{ timestamp_from_epoch_micros('cast(cast(' ~ text ~ ' as decimal(38, 3)) * 1000 as bigint)') }}
        {%- endif %}
        when {{ regex_full_match(text, local_shape) }}
            then {{ local_in_zone }}
        when {{ regex_full_match(text, offset_time_shape) }}
            then {{ dbt.dateadd('minute', '-(' ~ offset_minutes ~ ')', local_timestamps.before_offset) | trim }}
    end
{%- endmacro %}


{#- The zone of local times in an input: the format's time_zone, else var source_time_zone (UTC). -#}
{% macro input_time_zone(fmt) %}
    {{ return((fmt.time_zone | default(var('source_time_zone', 'UTC'), true)) | string | trim) }}
{% endmacro %}


{#- A timestamp value already typed in the input file (a Parquet TIMESTAMP without a zone): local
    time in the format's time_zone like text without an offset, converted to a naive UTC timestamp.
    parse_timestamp checks the zone's name. -#}
{% macro timestamp_value_to_utc(timestamp_expr, fmt) %}
    {%- set zone = input_time_zone(fmt) -%}
    {%- if zone | upper in ('UTC', 'ETC/UTC') -%}
        {{ return(timestamp_expr) }}
    {%- endif -%}
    {{ return(local_time_to_utc(timestamp_expr, zone) | trim) }}
{% endmacro %}


{#- A number written with the format's decimal_separator ('.' or ',') and thousands_separator ('',
    ',', '.', ' ' or "'"), cast to data_type with cast_or_null; null when the text does not fit them.
    A leading sign only; thousands separators only between groups of three digits ('1.234.567,5'),
    and a number may be written without them ('1234,5'). ' ' also stands for the no-break spaces
    U+00A0 and U+202F, "'" for U+2019. The default ('.' and none) is cast_or_null alone. -#}
{% macro parse_decimal(text_expr, fmt, data_type) %}
    {{ return(adapter.dispatch('parse_decimal', 'loyalty_segments')(text_expr, fmt, data_type)) }}
{% endmacro %}

{% macro default__parse_decimal(text_expr, fmt, data_type) -%}
    {%- set decimal_separator = fmt.decimal_separator | default('.', true) -%}
    {%- set thousands_separator = fmt.thousands_separator | default('', true) -%}
    {%- if decimal_separator == '.' and thousands_separator == '' -%}
        {{ cast_or_null(text_expr, data_type) }}
    {%- else -%}
        {%- set text = '(' ~ text_expr ~ ')' -%}
        {%- set classes = {
            ',': ',', '.': '\\.', ' ': " \\x{00A0}\\x{202F}", "'": "''\\x{2019}"} -%}
        {%- set decimal_class = '[' ~ classes[decimal_separator] ~ ']' -%}
        {%- set shape = '[+-]?(?:\\d+' -%}
        {%- if thousands_separator != '' -%}
            {%- set shape = '[+-]?(?:\\d{1,3}(?:[' ~ classes[thousands_separator] ~ ']\\d{3})+|\\d+' -%}
        {%- endif -%}
        {%- set shape = shape ~ ')(?:' ~ decimal_class ~ '\\d+)?' -%}
        {%- set plain = text -%}
        {%- if thousands_separator != '' -%}
            {%- set plain = regex_replace_all(plain, '[' ~ classes[thousands_separator] ~ ']', '') | trim -%}
        {%- endif -%}
        {%- if decimal_separator != '.' -%}
            {%- set plain = "replace(" ~ plain ~ ", '" ~ decimal_separator ~ "', '.')" -%}
        {%- endif -%}
        case when {{ regex_full_match(text, shape) }} then {{ cast_or_null(plain, data_type) }} end
    {%- endif -%}
{%- endmacro %}


{#- An id as text: white space of any kind trimmed at both ends (tab, CR, LF, no-break and other
    Unicode spaces, zero-width space, byte order mark), empty as null, and an integer written as a
    float with a zero fraction ('900001.0', as pandas writes integer ids of a column with gaps) as
    the integer ('900001'). Anything else is kept as written: '0042' and '42' stay different ids. -#}
{% macro clean_id(text_expr) %}
    {{ return(adapter.dispatch('clean_id', 'loyalty_segments')(text_expr)) }}
{% endmacro %}

{% macro default__clean_id(text_expr) -%}
    {%- set space = '[\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200B}\\x{2028}\\x{2029}'
        ~ '\\x{202F}\\x{205F}\\x{2060}\\x{3000}\\x{FEFF}]' -%}
    {#- Most ids start with a visible ASCII character and end with one other than '0': nothing to do. -#}
    case
        when {{ regex_full_match(text_expr, '[!-~]|[!-~].*[!-/1-~]') }} then {{ text_expr }}
        else nullif({{ regex_replace_all(regex_replace_all(text_expr, '^' ~ space ~ '+|' ~ space ~ '+$', ''), '^(\\d+)\\.0+$', '\\1') }}, '')
    end
{%- endmacro %}
