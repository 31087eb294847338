{#- The input format (README "Input formats"): how a shop's export differs from the contract, per
    entity. A YAML file named by the var input_format (by default the environment variable
    LOYALTY_INPUT_FORMAT; empty means none; a relative path is relative to the folder dbt runs in):

        orders:
          columns: {order_id: Name, customer_id: Email, ordered_at: Created at, amount: Total}
          delimiter: ";"
          decimal_separator: ","
          date_order: DMY
          time_zone: Europe/Berlin

    Every option is explicit: nothing about a value's format is guessed from the data. Presets for
    common exports are in input_formats/. -#}


{#- Allowed options and their defaults; a list is the set of allowed values (first = default). -#}
{% macro input_format_options() %}
    {{ return({
        'columns': {},
        'delimiter': ['auto', ',', ';', '\t', '|'],
        'encoding': ['utf-8', 'latin-1', 'cp1252', 'utf-16'],
        'decimal_separator': ['.', ','],
        'thousands_separator': ['', ',', '.', ' ', "'"],
        'date_order': ['YMD', 'DMY', 'MDY'],
        'timestamp_unit': ['text', 'epoch_seconds', 'epoch_milliseconds'],
        'time_zone': none,
        'continuation_row_when_empty': none,
    }) }}
{% endmacro %}


{% macro input_format_path() %}
    {{ return((var('input_format', '') or '') | string | trim) }}
{% endmacro %}


{#- The whole format document as a dict ({} without a format file). -#}
{% macro input_format_document() %}
    {%- set path = input_format_path() -%}
    {%- if path == '' or not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set path_sql = path | replace("'", "''") -%}
    {%- set found = run_query("select count(*) from glob('" ~ path_sql ~ "')").columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Input format: the file '" ~ path ~ "' named by input_format (LOYALTY_INPUT_FORMAT) does not exist."
            ~ " A relative path is relative to the folder dbt runs in; presets are in input_formats/.") }}
    {%- endif -%}
    {%- set text = run_query("select content from read_text('" ~ path_sql ~ "')").columns[0].values()[0] -%}
    {%- set document = fromyaml(text) -%}
    {%- if document is none -%}
        {{ return({}) }}
    {%- endif -%}
    {%- if document is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "Input format '" ~ path ~ "': expected a mapping of entity names (orders, order_lines, ...) to options") }}
    {%- endif -%}
    {%- set contract = input_contract() -%}
    {%- for entity in document -%}
        {%- if entity not in contract -%}
            {{ exceptions.raise_compiler_error(
                "Input format '" ~ path ~ "': unknown entity '" ~ entity ~ "'. Entities: "
                ~ contract.keys() | list | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(document) }}
{% endmacro %}


{#- The options of one entity, defaults filled in and every value checked. time_zone defaults to
    var('source_time_zone'). columns maps contract column -> column name in the export. -#}
{% macro input_format(entity, document=none) %}
    {%- set document = input_format_document() if document is none else document -%}
    {%- set given = document.get(entity) or {} -%}
    {%- set path = input_format_path() -%}
    {%- set options = input_format_options() -%}
    {%- if given is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "Input format '" ~ path ~ "': " ~ entity ~ " must be a mapping of options ("
            ~ options.keys() | list | join(', ') ~ ")") }}
    {%- endif -%}
    {%- set result = {} -%}
    {%- for key, allowed in options.items() -%}
        {%- if allowed is string or allowed is none or allowed is mapping -%}
            {%- do result.update({key: given.get(key, allowed)}) -%}
        {%- else -%}
            {%- set value = given.get(key, allowed[0]) -%}
            {%- set value = value | string -%}
            {%- if key in ('date_order',) -%}{%- set value = value | upper -%}{%- endif -%}
            {%- if key in ('encoding', 'timestamp_unit') -%}{%- set value = value | lower -%}{%- endif -%}
            {%- if key == 'delimiter' and value in ('tab', '\\t') -%}{%- set value = '\t' -%}{%- endif -%}
            {%- if key == 'encoding' and value in ('utf8', 'utf-8-sig') -%}{%- set value = 'utf-8' -%}{%- endif -%}
            {%- if key == 'encoding' and value in ('latin1', 'iso-8859-1', 'iso-8859-15', 'latin-9') -%}{%- set value = 'latin-1' -%}{%- endif -%}
            {%- if key == 'encoding' and value in ('windows-1252', 'win-1252', '1252') -%}{%- set value = 'cp1252' -%}{%- endif -%}
            {%- if key == 'encoding' and value in ('utf16', 'utf-16le', 'utf-16be') -%}{%- set value = 'utf-16' -%}{%- endif -%}
            {%- if value not in allowed -%}
                {{ exceptions.raise_compiler_error(
                    "Input format '" ~ path ~ "': " ~ entity ~ "." ~ key ~ " = '" ~ value ~ "' is not one of: '"
                    ~ allowed | join("', '") ~ "'") }}
            {%- endif -%}
            {%- do result.update({key: value}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for key in given -%}
        {%- if key not in options -%}
            {{ exceptions.raise_compiler_error(
                "Input format '" ~ path ~ "': unknown option " ~ entity ~ "." ~ key ~ ". Options: "
                ~ options.keys() | list | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set contract_columns = [] -%}
    {%- for column in input_contract()[entity].columns -%}{%- do contract_columns.append(column[0]) -%}{%- endfor -%}
    {%- set columns = result.columns or {} -%}
    {%- if columns is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "Input format '" ~ path ~ "': " ~ entity ~ ".columns must map contract columns to the export's column names") }}
    {%- endif -%}
    {%- for column in columns -%}
        {%- if column not in contract_columns -%}
            {{ exceptions.raise_compiler_error(
                "Input format '" ~ path ~ "': " ~ entity ~ ".columns." ~ column ~ " is not a contract column of "
                ~ entity ~ ". Contract columns: " ~ contract_columns | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if result.continuation_row_when_empty is not none and result.continuation_row_when_empty not in contract_columns -%}
        {{ exceptions.raise_compiler_error(
            "Input format '" ~ path ~ "': " ~ entity ~ ".continuation_row_when_empty must name a contract column of "
            ~ entity ~ " (" ~ contract_columns | join(', ') ~ ")") }}
    {%- endif -%}
    {%- if result.decimal_separator == result.thousands_separator -%}
        {{ exceptions.raise_compiler_error(
            "Input format '" ~ path ~ "': " ~ entity ~ ".decimal_separator and thousands_separator are both '"
            ~ result.decimal_separator ~ "'") }}
    {%- endif -%}
    {%- if result.time_zone is none or result.time_zone == '' -%}
        {%- do result.update({'time_zone': var('source_time_zone')}) -%}
    {%- endif -%}
    {%- do result.update({'columns': columns}) -%}
    {{ return(result) }}
{% endmacro %}
