{#- "Nothing is not success": a build whose orders stage no row, or that ends with no customer,
    stops with the files and the likely cause instead of passing with empty marts. Both checks run
    as post-hooks after their table is committed (the rows stay queryable), and both look at the
    table as a whole, so an incremental run that loads no new file passes. -#}


{#- The relation name of a model or source from the graph, for checks that read a table their
    model does not select from directly (a ref() in a hook would not be a declared dependency). -#}
{% macro graph_relation_name(resource_type, name, source_name=none) %}
    {%- set nodes = graph.sources.values() if resource_type == 'source' else graph.nodes.values() -%}
    {%- for node in nodes -%}
        {%- if node.resource_type == resource_type and node.name == name
            and (source_name is none or node.source_name == source_name) -%}
            {{ return(node.relation_name) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error('graph_relation_name: no ' ~ resource_type ~ ' named ' ~ name) }}
{% endmacro %}


{#- What each quarantine reason means and which setting fixes it, for the messages of the checks
    that stop a build (check_orders_staged, check_quarantine_share): one dictionary for all of them.
    The input format's options are shown with their values for `entity`. -#}
{% macro quarantine_reason_hints(entity) %}
    {%- set fmt = input_format(entity) -%}
    {%- set format_file = input_format_path() or 'none; LOYALTY_INPUT_FORMAT names one' -%}
    {%- set in_format = ' of the input format (' ~ entity ~ ' in ' ~ format_file ~ ')' -%}
    {%- set delimiter = 'tab' if fmt.delimiter == '\t' else fmt.delimiter -%}
    {%- set hints = {
        'continuation_row': 'a further row of an order read from an earlier row of the file'
            ~ ' (continuation_row_when_empty' ~ in_format ~ '); not a bad row',
        'conflicting_duplicate': 'the same id twice in one file with different values: fix the export',
        'exact_duplicate': 'an identical earlier row was staged',
        'unknown_currency': 'currency not in seeds/currencies.csv: add the code there with its rate',
        'amount_out_of_range': 'the amount in the reporting currency is 100 trillion or more, beyond the'
            ~ ' money type decimal(18,4): check the unit of the amount column and the decimal_separator and'
            ~ ' thousands_separator' ~ in_format,
        'unknown_status': 'status not in seeds/order_statuses.csv: add the status there',
        'unknown_event_type': 'event_type must be product_view, add_to_cart or visit',
        'malformed_row_too_many_fields': 'the line has more fields than the header: look at the file at'
            ~ ' that row; a delimiter inside an unquoted value, or the wrong delimiter (now "'
            ~ delimiter ~ '")' ~ in_format,
        'malformed_row_too_few_fields': 'the line has fewer fields than the header: look at the file at'
            ~ ' that row; a cut line, or the wrong delimiter (now "' ~ delimiter ~ '")' ~ in_format,
        'malformed_row_quote': 'an unclosed or stray quote: look at the file at that row and the delimiter'
            ~ ' (now "' ~ delimiter ~ '")' ~ in_format,
        'invalid_encoding': 'bytes that are not ' ~ fmt.encoding ~ ': look at the file at that row; set'
            ~ ' encoding (utf-8, latin-1, cp1252, utf-16)' ~ in_format,
        'repeated_header': 'a row that repeats the header: two exports pasted into one file; nothing to do'
            ~ ' if the columns are the same, otherwise split the file at that row',
        'line_too_long': 'a line longer than the reader accepts, usually a quote that is never closed or'
            ~ ' missing line breaks: look at the file at that row and the delimiter (now "' ~ delimiter
            ~ '") and encoding (now ' ~ fmt.encoding ~ ')' ~ in_format,
    } -%}
    {%- set contract = input_contract() -%}
    {%- for column in contract[entity].columns if entity in contract -%}
        {%- do hints.update({'missing_' ~ column[0]: column[0] ~ ' is empty'}) -%}
    {%- endfor -%}
    {%- for column in ['ordered_at', 'event_at', 'sent_at', 'signup_at'] -%}
        {%- do hints.update({
            'unparseable_' ~ column: column ~ ' must be ISO 8601 (2024-03-01 14:05:00, 2024-03-01T14:05:00+02:00)'
                ~ ' or as date_order (now ' ~ fmt.date_order ~ '), time_zone (now ' ~ fmt.time_zone
                ~ ') and timestamp_unit (now ' ~ fmt.timestamp_unit ~ ')' ~ in_format ~ ' say',
            'implausible_' ~ column: column ~ ' before var min_valid_date (now ' ~ var('min_valid_date')
                ~ '): set min_valid_date if such dates are real, or check timestamp_unit (now '
                ~ fmt.timestamp_unit ~ ')' ~ in_format,
            'future_' ~ column: column ~ ' after the later of the run day and as_of_date (now '
                ~ as_of_date_value() ~ ') plus future_tolerance_days (now ' ~ var('future_tolerance_days')
                ~ '): set var as_of_date or future_tolerance_days, or check time_zone (now ' ~ fmt.time_zone
                ~ ') and timestamp_unit' ~ in_format,
        }) -%}
    {%- endfor -%}
    {%- set separators = "decimal_separator (now '" ~ fmt.decimal_separator ~ "') and thousands_separator (now "
        ~ ("'" ~ fmt.thousands_separator ~ "'" if fmt.thousands_separator else 'none') ~ ')' ~ in_format -%}
    {%- for column in ['amount', 'discount_amount', 'quantity', 'unit_price', 'unit_cost'] -%}
        {%- do hints.update({
            'unparseable_' ~ column: column ~ ' must be a number written with the ' ~ separators,
            'negative_' ~ column: column ~ ' must not be negative',
        }) -%}
    {%- endfor -%}
    {%- for column in ['consent_email', 'consent_sms', 'consent_push', 'is_holdout'] -%}
        {%- do hints.update({'unparseable_' ~ column: column ~ ' must be true or false'}) -%}
    {%- endfor -%}
    {{ return(hints) }}
{% endmacro %}


{#- Post-hook of base_shop__orders_checked: stops the build when the table holds no staged order.
    Either no row was read at all (files empty or with only a header row), or every row was
    quarantined (the reasons by file). -#}
{% macro check_orders_staged(relation) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set counts_query -%}
        select
            count(*) as raw_rows,
            count(case when quarantine_reason is null then 1 end) as staged_rows
        from {{ relation }}
    {%- endset -%}
    {%- set counts = run_query(counts_query).rows[0] -%}
    {%- set raw_rows = counts[0] | int -%}
    {%- if counts[1] | int > 0 -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- if raw_rows == 0 -%}
        {%- set files = [] -%}
        {%- if target.type == 'duckdb' -%}
            {%- set data_dir = input_data_dir() -%}
            {%- for file in list_input_files(data_dir, 'orders') -%}
                {%- do files.append(input_relative_path(data_dir, file)) -%}
            {%- endfor -%}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(
            'No orders: not one row was read from the orders input ('
            ~ (files | join(', ') if files else graph_relation_name('source', 'orders', 'shop'))
            ~ ' in LOYALTY_DATA_DIR=' ~ input_data_dir() ~ '). Likely cause: every file is empty or has only'
            ~ ' a header row (an export of an empty period or a failed export). CSV lines are never read as'
            ~ ' comments, so ids starting with # are not the cause. The build stops rather than'
            ~ ' report zero customers.') }}
    {%- endif -%}
    {%- set detail_query -%}
        select source_file, quarantine_reason, count(*) as rows_count
        from {{ relation }}
        group by source_file, quarantine_reason
        order by rows_count desc, source_file, quarantine_reason
        limit 10
    {%- endset -%}
    {%- set hints = quarantine_reason_hints('orders') -%}
    {%- set lines = [] -%}
    {%- for row in run_query(detail_query).rows -%}
        {%- set hint = hints.get(row[1]) -%}
        {%- do lines.append('  ' ~ row[0] ~ ': ' ~ row[2] ~ ' x ' ~ row[1] ~ (' (' ~ hint ~ ')' if hint else '')) -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        'No orders staged: all ' ~ raw_rows ~ ' orders rows were quarantined, so no order is left to'
        ~ ' score. Reasons (file: rows x reason):\n' ~ lines | join('\n')
        ~ '\nEvery row and its reason is in ' ~ relation ~ ' (quarantine_reason is not null).') }}
{% endmacro %}


{#- Post-hook of int_customer_facts_snapshotted: stops the build when no customer has an order on
    or before as_of_date, saying why from the staged orders: none staged, only guest orders (empty
    customer_id), only cancelled ones, or as_of_date before the first customer order. -#}
{% macro check_customers_present(relation) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set customers = run_query('select count(*) from ' ~ relation ~ ' where score_date = ' ~ as_of_date()).rows[0][0] | int -%}
    {%- if customers > 0 -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set orders = graph_relation_name('model', 'base_shop__orders_checked') -%}
    {%- set as_of = as_of_date_value() -%}
    {%- set diagnosis_query -%}
        select
            count(*) as staged_rows,
            count(customer_id) as customer_rows,
            count(case when customer_id is not null and not is_cancelled then 1 end) as customer_kept_rows,
            count(case when customer_id is not null and not is_cancelled
                and order_date <= {{ as_of_date() }} then 1 end) as customer_in_scope_rows,
            min(case when customer_id is not null and not is_cancelled then order_date end) as first_date,
            max(case when customer_id is not null and not is_cancelled then order_date end) as last_date
        from {{ orders }}
        where quarantine_reason is null
    {%- endset -%}
    {%- set d = run_query(diagnosis_query).rows[0] -%}
    {%- set staged_rows = d[0] | int -%}
    {%- set files_query -%}
        select source_file, count(*) as rows_count
        from {{ orders }}
        where quarantine_reason is null
        group by source_file
        order by source_file
        limit 10
    {%- endset -%}
    {%- set files = [] -%}
    {%- for row in run_query(files_query).rows -%}
        {%- do files.append(row[0] ~ ' (' ~ row[1] ~ ' staged)') -%}
    {%- endfor -%}
    {%- set where = ' Files: ' ~ (files | join(', ') if files else '(none)') ~ '.' -%}
    {%- if staged_rows == 0 -%}
        {%- set cause = 'no order was staged (see ' ~ orders ~ ' for the quarantined rows and their reasons).' -%}
    {%- elif d[1] | int == 0 -%}
        {%- set cause = 'all ' ~ staged_rows ~ ' staged orders are guest orders (customer_id is empty): customer'
            ~ ' marts need a customer id; check that the customer_id column is filled in the export.' -%}
    {%- elif d[2] | int == 0 -%}
        {%- set cause = 'every one of the ' ~ d[1] ~ ' staged orders with a customer id is cancelled.' -%}
    {%- elif d[3] | int == 0 -%}
        {%- set cause = 'as_of_date ' ~ as_of ~ ' is before all the data: the first customer order is on '
            ~ d[4] ~ ' (the last on ' ~ d[5] ~ '), and orders after as_of_date are ignored. Use an as_of_date'
            ~ ' on or after ' ~ d[4] ~ ", e.g. --vars '{as_of_date: " ~ d[5] ~ "}'." -%}
    {%- else -%}
        {%- set cause = d[3] ~ ' customer orders lie on or before as_of_date ' ~ as_of ~ ' but none reached '
            ~ relation ~ ' (an inconsistent incremental state: run dbt build --full-refresh).' -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        'No customers as of ' ~ as_of ~ ': ' ~ cause ~ where ~ ' The build stops rather than report zero customers.') }}
{% endmacro %}
