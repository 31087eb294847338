{#- Reading one input file (DuckDB): the select behind raw.<entity> for that file, with every
    contract column as text, source_file, source_row_number and read_error.

    Nothing about a file's layout is guessed from its data. Parquet files carry their columns.
    For a CSV file the header line is read as text and split by the delimiter (the format's, or the
    most frequent of , ; tab | in the header line); the rows are then read with that header, the
    double quote as quote and escape, and no type detection (DuckDB's sniffer would guess a
    delimiter, comment character, header and skipped lines from a sample, and misread damaged
    files). A UTF-16 byte-order mark selects UTF-16.

    A CSV row the reader cannot split into the header's fields (too many or too few fields, a
    stray quote, bytes that are not the encoding, a line over 8 MB) becomes a row of its own with
    the contract columns null and read_error naming the cause; the staging models quarantine it with
    that reason, so raw rows = staged + quarantined still holds. A file where such rows are more
    than max_quarantine_share, or whose lines do not add up to its rows (a quote that is never
    closed swallows the lines after it), stops the build naming the file, the line and the cause.
    Messages never quote a row's content: exports hold emails and phone numbers. -#}
{% macro raw_file_select(data_dir, entity, columns, file, fmt) %}
    {%- set relative = input_relative_path(data_dir, file) -%}
    {%- if input_file_format(file) == 'parquet' -%}
        {%- set reader = "read_parquet('" ~ file | replace("'", "''") ~ "', file_row_number = true)" -%}
        {%- set found = [] -%}
        {%- set types = {} -%}
        {%- for row in run_query('describe select * from ' ~ reader) -%}
            {%- if row[0] != 'file_row_number' -%}
                {%- do found.append(row[0]) -%}
                {%- if row[0] | lower | trim not in types -%}{%- do types.update({row[0] | lower | trim: (row[0], row[1])}) -%}{%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set select_list = contract_select_list(relative, entity, columns, found, fmt, none) -%}
        {{ return("select '" ~ relative | replace("'", "''") ~ "' as source_file, cast(file_row_number + 1 as bigint)"
            ~ " as source_row_number, " ~ select_list | join(', ') ~ ', cast(null as varchar) as read_error'
            ~ raw_typed_values(entity, fmt, types) ~ ' from ' ~ reader) }}
    {%- endif -%}

    {%- set layout = csv_layout(relative, entity, file, fmt) -%}
    {%- if file.lower().endswith('.gz') -%}
        {%- do check_gzip_complete(relative, entity, file) -%}
    {%- endif -%}
    {%- set select_list = contract_select_list(relative, entity, columns, layout.header, fmt, layout) -%}
    {#- the file's columns the contract reads: the reader uses these, and only these, in every
        query (at least two: DuckDB 1.5 fails on a bad byte when a query reads a single column) -#}
    {%- set present = {} -%}
    {%- for name in layout.header -%}
        {%- if name | lower | trim not in present -%}{%- do present.update({name | lower | trim: name}) -%}{%- endif -%}
    {%- endfor -%}
    {%- set used = [] -%}
    {%- for column in columns -%}
        {%- set wanted = ((fmt.columns.get(column[0]) or column[0]) | string | lower | trim) -%}
        {%- if wanted in present and present[wanted] not in used -%}{%- do used.append(present[wanted]) -%}{%- endif -%}
    {%- endfor -%}
    {%- for name in layout.header if used | length < 2 and name not in used -%}
        {%- do used.append(name) -%}
    {%- endfor -%}
    {%- do layout.update({'used': used}) -%}
    {%- set scan = csv_scan(relative, entity, file, layout) -%}
    {%- set source_sql = "'" ~ relative | replace("'", "''") ~ "'" -%}
    {%- set null_columns = [] -%}
    {%- set plain_names = [] -%}
    {%- for column in columns -%}
        {%- do null_columns.append('cast(null as varchar) as ' ~ column[0]) -%}
        {%- do plain_names.append(column[0]) -%}
    {%- endfor -%}
    {#- a row that repeats the header (a second export pasted below the first, same columns) -#}
    {%- set header_checks = [] -%}
    {%- for name in layout.used -%}
        {%- do header_checks.append('"' ~ name | replace('"', '""') ~ "\" = '" ~ name | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- set repeated_header = "case when " ~ header_checks | join(' and ') ~ " then 'repeated_header' end" -%}
    {%- if scan.rejects | length == 0 -%}
        {%- set rows_sql = 'select cast(row_number() over () as bigint) as source_row_number, '
            ~ select_list | join(', ') ~ ', ' ~ repeated_header ~ ' as read_error from ' ~ csv_reader(file, layout) -%}
    {%- else -%}
        {#- Rows around damaged ones keep their position in the file: reject i (1-based, in line
            order) follows q_i good rows, so good row r is row r + (the rejects with q_i < r). -#}
        {%- set reject_rows = [] -%}
        {%- set offsets = {} -%}
        {%- set previous = namespace(q=0) -%}
        {%- for reject in scan.rejects -%}
            {%- set i = loop.index -%}
            {%- set q = [[reject.line - 1 - i, previous.q] | max, scan.good_rows] | min -%}
            {%- set previous.q = q -%}
            {%- do offsets.update({q: i}) -%}
            {%- do reject_rows.append('(' ~ (q + i) ~ ", '" ~ reject.reason ~ "')") -%}
        {%- endfor -%}
        {%- set offset_rows = [] -%}
        {%- for q, i in offsets.items() -%}
            {%- do offset_rows.append('(' ~ q ~ ', ' ~ i ~ ')') -%}
        {%- endfor -%}
        {%- set rows_sql -%}
            with good as (
                select row_number() over () as good_ordinal, {{ select_list | join(', ') }},
                    {{ repeated_header }} as read_error
                from {{ csv_reader(file, layout) }}
            ),
            offsets as (
                select * from (values {{ offset_rows | join(', ') }}) as offsets (good_before, rejects_before)
            )
            select cast(good.good_ordinal + coalesce(offsets.rejects_before, 0) as bigint) as source_row_number,
                {% for column in columns %}good.{{ column[0] }}, {% endfor %}good.read_error
            from good asof left join offsets on good.good_ordinal > offsets.good_before
            union all
            select cast(rejected.row_number as bigint), {{ null_columns | join(', ') }}, rejected.read_error
            from (values {{ reject_rows | join(', ') }}) as rejected (row_number, read_error)
        {%- endset -%}
    {%- endif -%}
    {{ return('select ' ~ source_sql ~ ' as source_file, source_row_number, ' ~ plain_names | join(', ')
        ~ ', read_error' ~ raw_typed_values(entity, fmt, {}) ~ ' from (' ~ rows_sql ~ ') as file_rows') }}
{% endmacro %}


{#- The <column>__value list of the raw view (typed_input_columns), after read_error: the Parquet
    column's value where its type (types: lower-case name -> (name, type)) matches the kind, else a
    typed null. Empty for entities without typed columns. -#}
{% macro raw_typed_values(entity, fmt, types) %}
    {%- set values = [] -%}
    {%- for column, kind in typed_input_columns(entity).items() -%}
        {%- set found = types.get((fmt.columns.get(column) or column) | string | lower | trim) -%}
        {%- set found_type = (found[1] if found else '') | upper -%}
        {%- set quoted = '"' ~ (found[0] | replace('"', '""') if found else '') ~ '"' -%}
        {%- if kind == 'timestamp' and found_type in ('TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S', 'DATE') -%}
            {%- do values.append('cast(' ~ quoted ~ ' as timestamp) as ' ~ column ~ '__value') -%}
        {%- elif kind == 'money' and (found_type.startswith('DECIMAL') or found_type in
            ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT')) -%}
            {#- a value beyond the money type stays null here and fails on its text, as in a CSV file -#}
            {%- do values.append('try_cast(' ~ quoted ~ ' as ' ~ money_type() ~ ') as ' ~ column ~ '__value') -%}
        {%- else -%}
            {%- do values.append('cast(null as ' ~ typed_kind_type(kind) ~ ') as ' ~ column ~ '__value') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return((', ' ~ values | join(', ')) if values else '') }}
{% endmacro %}


{#- A file's path relative to the data folder, as source_file records it. -#}
{% macro input_relative_path(data_dir, file) %}
    {{ return(file[data_dir | length + 1:] if file.startswith(data_dir ~ '/') else file) }}
{% endmacro %}


{#- The select list of the contract columns from the columns a file has (found), through the
    format's column mapping, matched case-insensitively. All missing required columns are reported
    in one message with the mapping to write. -#}
{% macro contract_select_list(relative, entity, columns, found, fmt, layout) %}
    {%- set present = {} -%}
    {%- for name in found -%}
        {%- set key = name | lower | trim -%}
        {%- if key not in present -%}{%- do present.update({key: name}) -%}{%- endif -%}
    {%- endfor -%}
    {%- set select_list = [] -%}
    {%- set missing = [] -%}
    {%- for column in columns -%}
        {%- set wanted = (fmt.columns.get(column[0]) or column[0]) | string -%}
        {%- if wanted | lower | trim in present -%}
            {%- do select_list.append('cast("' ~ present[wanted | lower | trim] | replace('"', '""') ~ '" as varchar) as ' ~ column[0]) -%}
        {%- elif column[1] -%}
            {%- do missing.append((column[0], wanted)) -%}
        {%- else -%}
            {%- do select_list.append('cast(null as varchar) as ' ~ column[0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing | length > 0 -%}
        {%- set described = [] -%}
        {%- set template = [entity ~ ':', '  columns:'] -%}
        {%- for column, wanted in missing -%}
            {%- if wanted != column -%}
                {%- do described.append(column ~ " (mapped to '" ~ wanted ~ "')") -%}
            {%- else -%}
                {%- do described.append(column) -%}
            {%- endif -%}
            {%- do template.append('    ' ~ column ~ ': <its column in this file>') -%}
        {%- endfor -%}
        {%- set found_text = found | join(', ') -%}
        {%- if layout is not none and layout.encoding == 'utf-8' and not layout.path.lower().endswith('.gz') -%}
            {%- set not_utf8 = run_query("select try(decode(content)) is null from read_blob('"
                ~ layout.path | replace("'", "''") ~ "')").columns[0].values()[0] -%}
            {%- if not_utf8 -%}
                {%- set found_text = "(not shown: the header line is not UTF-8 text, so the line read in its place"
                    ~ " is a row). Set " ~ entity ~ ".encoding (latin-1, cp1252, utf-16) in the input format file." -%}
            {%- endif -%}
        {%- endif -%}
        {%- set hint = '' -%}
        {%- if layout is not none -%}
            {%- set hint = "\nThe first line of a CSV file must be its header: a title or date line above it is"
                ~ " read as the header (remove such lines)." -%}
        {%- endif -%}
        {%- if layout is not none and found | length == 1 -%}
            {%- set hint = hint ~ "\nThe header was read as one column with delimiter '" ~ layout.delimiter_name
                ~ "': if the file uses another delimiter, set " ~ entity ~ ".delimiter in the input format file." -%}
        {%- endif -%}
        {%- set format_path = input_format_path() -%}
        {{ exceptions.raise_compiler_error(
            "Input contract: file '" ~ relative ~ "' (" ~ entity ~ ") lacks the required column"
            ~ ('s ' if missing | length > 1 else ' ') ~ described | join(', ') ~ ".\nColumns found: "
            ~ found_text ~ hint
            ~ "\nMap the export's columns to the contract in the input format file ("
            ~ ("input_format = '" ~ format_path ~ "'" if format_path else "none is set: name one with LOYALTY_INPUT_FORMAT")
            ~ ", README 'Input formats'):\n" ~ template | join('\n')) }}
    {%- endif -%}
    {{ return(select_list) }}
{% endmacro %}


{#- How to read a CSV file: the file to read (latin-1, cp1252 and UTF-16 files are read from a
    UTF-8 copy, see macros/raw/transcode_input_file.sql; NUL bytes in the first line, as a UTF-16
    byte-order mark or UTF-16 text gives, select UTF-16), the delimiter and the header's column
    names. -#}
{% macro csv_layout(relative, entity, file, fmt) %}
    {%- set text_encoding = fmt.encoding -%}
    {%- set path = file -%}
    {%- set header = none -%}
    {%- if text_encoding == 'utf-8' -%}
        {%- set header = csv_first_line(path) -%}
        {%- if header is not none and '\x00' in header -%}
            {%- set text_encoding = 'utf-16' -%}
        {%- endif -%}
    {%- endif -%}
    {%- if text_encoding != 'utf-8' -%}
        {%- set path = transcode_input_file(relative, entity, file, text_encoding) -%}
        {%- set header = csv_first_line(path) -%}
    {%- endif -%}
    {%- set encoding = 'utf-8' -%}
    {%- if header is none or header | trim == '' -%}
        {{ exceptions.raise_compiler_error(
            "Input contract: file '" ~ relative ~ "' (" ~ entity ~ ") is empty, its first line is blank or it is not "
            ~ text_encoding ~ " text: the first line must be the header. Another encoding is set with " ~ entity
            ~ ".encoding (latin-1, cp1252, utf-16) in the input format file.") }}
    {%- endif -%}
    {%- set header = header.lstrip('\ufeff').rstrip('\r') -%}
    {%- set delimiter = fmt.delimiter -%}
    {%- if delimiter == 'auto' -%}
        {%- set counts = [] -%}
        {%- for candidate in [',', ';', '\t', '|'] -%}
            {%- do counts.append((header.count(candidate), 4 - loop.index, candidate)) -%}
        {%- endfor -%}
        {%- set delimiter = (counts | sort | last)[2] -%}
    {%- endif -%}
    {%- set names = [] -%}
    {%- set seen = {} -%}
    {%- for field in split_csv_header(header, delimiter) -%}
        {%- set name = field | trim -%}
        {%- if name == '' -%}{%- set name = 'column_' ~ loop.index -%}{%- endif -%}
        {%- if name | lower in seen -%}
            {%- set name = name ~ '_' ~ loop.index -%}
        {%- endif -%}
        {%- do seen.update({name | lower: true}) -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return({'path': path, 'encoding': encoding, 'text_encoding': text_encoding,
        'delimiter': delimiter, 'header': names,
        'delimiter_name': {',': ',', ';': ';', '\t': 'tab', '|': '|'}[delimiter]}) }}
{% endmacro %}


{#- The first line of a file as text (none for an empty file). -#}
{% macro csv_first_line(file) %}
    {#- lines up to 64 MB: a long line further down must not be skipped in favour of a later one -#}
    {%- set query -%}
        select line from read_csv('{{ file | replace("'", "''") }}', header = false, auto_detect = false,
            columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', escape = '', encoding = 'utf-8',
            strict_mode = false, null_padding = true, ignore_errors = true, max_line_size = 67108864,
            buffer_size = 67108864)
        limit 1
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {{ return(rows[0][0] if rows | length > 0 else none) }}
{% endmacro %}


{#- The fields of a header line: split at the delimiter outside double quotes, quotes removed. -#}
{% macro split_csv_header(line, delimiter) %}
    {%- set state = namespace(field='', quoted=false, previous='') -%}
    {%- set fields = [] -%}
    {%- for character in line -%}
        {%- if character == '"' -%}
            {%- if state.quoted and state.previous == '"' -%}{%- endif -%}
            {%- set state.quoted = not state.quoted -%}
        {%- elif character == delimiter and not state.quoted -%}
            {%- do fields.append(state.field) -%}
            {%- set state.field = '' -%}
        {%- else -%}
            {%- set state.field = state.field ~ character -%}
        {%- endif -%}
        {%- set state.previous = character -%}
    {%- endfor -%}
    {%- do fields.append(state.field) -%}
    {{ return(fields) }}
{% endmacro %}


{#- The rows of a CSV file with its layout, every column as text. Damaged rows are left out
    (DuckDB's store_rejects; ignore_errors would also drop good rows after a stray quote): csv_scan
    reports them and raw_file_select adds them back as rows with read_error. The reader checks a
    value's encoding only when the value is used, so the contract's columns (layout.used) are always
    used here (a length that cannot be negative) and the others never: which rows are damaged must
    not depend on the columns a query reads, and a bad byte outside the contract costs nothing. -#}
{% macro csv_reader(file, layout, rejects_tables=none) %}
    {%- set columns = [] -%}
    {%- set lengths = [] -%}
    {%- for name in layout.header -%}
        {%- do columns.append("'" ~ name | replace("'", "''") ~ "': 'VARCHAR'") -%}
    {%- endfor -%}
    {%- for name in layout.used -%}
        {%- do lengths.append('length(coalesce("' ~ name | replace('"', '""') ~ "\", ''))") -%}
    {%- endfor -%}
    {%- set rejects = '' -%}
    {%- if rejects_tables is not none -%}
        {%- set rejects = ", rejects_table = '" ~ rejects_tables[0] ~ "', rejects_scan = '" ~ rejects_tables[1] ~ "'" -%}
    {%- endif -%}
    {{ return("(select * from read_csv('" ~ layout.path | replace("'", "''") ~ "', header = true, auto_detect = false, columns = {"
        ~ columns | join(', ') ~ "}, delim = chr(" ~ {',': 44, ';': 59, '\t': 9, '|': 124}[layout.delimiter] ~ "), quote = '\"', escape = '\"', encoding = '"
        ~ layout.encoding ~ "', strict_mode = true, null_padding = false, comment = '', max_line_size = 8388608, buffer_size = 16777216,"
        ~ " store_rejects = true" ~ rejects ~ ") where " ~ lengths | join(' + ') ~ " >= 0)") }}
{% endmacro %}


{#- Reads a CSV file once with the reader's reject tables on: the number of good rows and, per
    damaged line, its cause. Stops when the damaged rows are more than max_quarantine_share of the
    file, or when the lines do not add up (a quote never closed hides the lines after it). -#}
{% macro csv_scan(relative, entity, file, layout) %}
    {%- set header_like = [] -%}
    {%- for name in layout.header[:3] -%}
        {%- do header_like.append("position('" ~ name | lower | replace("'", "''") ~ "' in lower(csv_line)) > 0") -%}
    {%- endfor -%}
    {#- reject tables of this scan alone: a scan without rejects records no scan, so "the latest
        scan" of the default tables could be another file's -#}
    {%- set query -%}
        drop table if exists loyalty_scan_rejects;
        drop table if exists loyalty_scan_scans;
        create or replace temporary table loyalty_csv_scan as
        select count(*) as good_rows
        from {{ csv_reader(file, layout, ('loyalty_scan_rejects', 'loyalty_scan_scans')) }};
        select scan.good_rows, 0, rejected.line, rejected.error_types, rejected.looks_like_header
        from loyalty_csv_scan as scan
        left join (
            select line, string_agg(distinct error_type, ',' order by error_type) as error_types,
                bool_or({{ header_like | join(' and ') }}) as looks_like_header
            from loyalty_scan_rejects
            group by line
        ) as rejected on true
        order by rejected.line
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- set good_rows = rows[0][0] | int -%}
    {%- set rejects = [] -%}
    {%- set header_lines = [] -%}
    {%- for row in rows if row[2] is not none -%}
        {%- set types = row[3] -%}
        {%- if 'INVALID UNICODE' in types or 'INVALID ENCODING' in types -%}{%- set reason = 'invalid_encoding' -%}
        {%- elif 'LINE SIZE OVER MAXIMUM' in types -%}{%- set reason = 'line_too_long' -%}
        {%- elif 'UNQUOTED VALUE' in types or 'QUOTE' in types -%}{%- set reason = 'malformed_row_quote' -%}
        {%- elif 'TOO MANY COLUMNS' in types -%}{%- set reason = 'malformed_row_too_many_fields' -%}
        {%- elif 'MISSING COLUMNS' in types -%}{%- set reason = 'malformed_row_too_few_fields' -%}
        {%- else -%}{%- set reason = 'malformed_row' -%}
        {%- endif -%}
        {%- do rejects.append({'line': row[2] | int, 'reason': reason}) -%}
        {%- if row[4] -%}{%- do header_lines.append(row[2] | int) -%}{%- endif -%}
    {%- endfor -%}
    {%- if rejects | length == 0 -%}
        {{ return({'good_rows': good_rows, 'rejects': []}) }}
    {%- endif -%}

    {%- set where = "file '" ~ relative ~ "' (" ~ entity ~ ", read with delimiter '" ~ layout.delimiter_name
        ~ "' and encoding " ~ layout.text_encoding ~ ")" -%}
    {%- set causes = {
        'invalid_encoding': 'bytes that are not ' ~ layout.text_encoding ~ ': set ' ~ entity ~ '.encoding (latin-1, cp1252, utf-16) in the input format file',
        'line_too_long': 'a line over 8 MB',
        'malformed_row_quote': 'a quote inside a field that is not doubled, or a quoted field with text after its closing quote',
        'malformed_row_too_many_fields': 'more fields than the header',
        'malformed_row_too_few_fields': 'fewer fields than the header (a truncated line?)',
        'malformed_row': 'a row the CSV reader could not read',
    } -%}
    {#- physical lines: read one line a row (no quote, no delimiter); lines that are not valid text
        are skipped there, and counted from the rejects -#}
    {%- set line_query -%}
        select count(line) filter (where trim(line, chr(13)) <> '')
        from read_csv('{{ layout.path | replace("'", "''") }}', header = false, auto_detect = false,
            columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', escape = '',
            encoding = '{{ layout.encoding }}', strict_mode = false, null_padding = true, ignore_errors = true,
            max_line_size = 8388608, buffer_size = 16777216)
    {%- endset -%}
    {%- set lines = run_query(line_query).rows[0][0] | int
        + rejects | selectattr('reason', 'equalto', 'invalid_encoding') | list | length -%}
    {#- line breaks inside quoted values, in every column (rows with a bad byte outside the
        contract are left out of this count: their line breaks, if any, are not counted) -#}
    {%- set newline_sums = [] -%}
    {%- for name in layout.header -%}
        {%- set quoted = '"' ~ name | replace('"', '""') ~ '"' -%}
        {%- do newline_sums.append('coalesce(length(' ~ quoted ~ ') - length(replace(' ~ quoted ~ ', chr(10), \'\')), 0)') -%}
    {%- endfor -%}
    {%- set all_columns = {} -%}
    {%- do all_columns.update(layout) -%}
    {%- do all_columns.update({'used': layout.header}) -%}
    {%- set embedded = run_query('select coalesce(sum(' ~ newline_sums | join(' + ') ~ '), 0) from '
        ~ csv_reader(file, all_columns)).rows[0][0] | int -%}
    {%- set accounted = 1 + good_rows + embedded + rejects | length -%}
    {%- if lines > accounted -%}
        {%- set quote_rejects = rejects | selectattr('reason', 'equalto', 'malformed_row_quote') | list -%}
        {%- set first = (quote_rejects or rejects)[0] -%}
        {{ exceptions.raise_compiler_error(
            "Input contract: " ~ where ~ ": " ~ (lines - accounted) ~ " of its " ~ lines
            ~ " lines could not be read as rows. Line " ~ first.line ~ " has " ~ causes[first.reason]
            ~ "; a quote opened there and never closed takes the lines after it into one field."
            ~ " Fix the quoting at line " ~ first.line ~ " (a double quote inside a field is written twice).") }}
    {%- endif -%}
    {%- set threshold = var('max_quarantine_share') | float -%}
    {%- set total = good_rows + rejects | length -%}
    {%- if rejects | length > threshold * total or rejects | length > 100000 -%}
        {%- set counted = {} -%}
        {%- for reject in rejects -%}
            {%- do counted.update({reject.reason: counted.get(reject.reason, 0) + 1}) -%}
        {%- endfor -%}
        {%- set summary = [] -%}
        {%- for reason, count in counted.items() -%}
            {%- do summary.append('  ' ~ count ~ ' x ' ~ reason ~ ': ' ~ causes[reason]) -%}
        {%- endfor -%}
        {%- set pasted = '' -%}
        {%- if header_lines | length > 0 -%}
            {%- set pasted = "\nLine " ~ header_lines[0] ~ " repeats the header's column names: two exports pasted"
                ~ " into one file? Split the file at line " ~ header_lines[0] ~ " into two files." -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(
            "Input contract: " ~ where ~ ": " ~ rejects | length ~ " of " ~ total ~ " rows could not be read"
            ~ " (above max_quarantine_share=" ~ threshold ~ "), the first at line " ~ rejects[0].line ~ ":\n"
            ~ summary | join('\n') ~ pasted) }}
    {%- endif -%}
    {{ return({'good_rows': good_rows, 'rejects': rejects}) }}
{% endmacro %}


{#- A gzip file cut short (an interrupted download or copy) decompresses without an error to the
    lines before the cut. Its last four bytes record the uncompressed size (mod 2^32): when the
    bytes read do not add up to it, the file is incomplete and the build stops. -#}
{% macro check_gzip_complete(relative, entity, file) %}
    {%- set file_sql = file | replace("'", "''") -%}
    {%- set plugin = plugin_function_available('loyalty_gzip_is_complete') -%}
    {%- if plugin -%}
        {%- if not run_query("select loyalty_gzip_is_complete('" ~ file_sql ~ "')").columns[0].values()[0] -%}
            {{ exceptions.raise_compiler_error(
                "Input contract: file '" ~ relative ~ "' (" ~ entity ~ ") is an incomplete gzip file: it ends before"
                ~ " the end of its compressed data (a download or copy cut short?). Copy the file again"
                ~ " (gzip -t " ~ relative ~ " tells whether it is whole).") }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {#- without the project's plugin: the size the file's end records against the bytes read
        (UTF-8 lines; a file with other bytes may be reported incomplete) -#}
    {%- set query -%}
        with

        recorded as (
            select
                ('0x' || substr(hex(content[-4:]), 7, 2) || substr(hex(content[-4:]), 5, 2)
                    || substr(hex(content[-4:]), 3, 2) || substr(hex(content[-4:]), 1, 2))::bigint as size_mod
            from read_blob('{{ file_sql }}')
        ),

        read_back as (
            select sum(coalesce(length(line), 0) + 1) as bytes_read, count(*) as lines
            from read_csv('{{ file_sql }}', header = false, auto_detect = false, columns = {'line': 'VARCHAR'},
                delim = chr(31), quote = '', escape = '', encoding = 'utf-8', strict_mode = false,
                null_padding = true, max_line_size = 8388608, buffer_size = 16777216)
        )

        select
            recorded.size_mod in (
                read_back.bytes_read % 4294967296,
                (read_back.bytes_read - 1) % 4294967296,
                (read_back.bytes_read + read_back.lines) % 4294967296,
                (read_back.bytes_read + read_back.lines - 2) % 4294967296
            ) as complete,
            read_back.lines
        from recorded, read_back
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if not row[0] -%}
        {{ exceptions.raise_compiler_error(
            "Input contract: file '" ~ relative ~ "' (" ~ entity ~ ") is an incomplete gzip file: it ends after line "
            ~ row[1] ~ " without the size its end must record (a download or copy cut short?). Copy the file again"
            ~ " (gzip -t " ~ relative ~ " tells whether it is whole).") }}
    {%- endif -%}
{% endmacro %}
