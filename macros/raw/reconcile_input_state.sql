{#- Keeps the incremental models a function of the input folder as it is now (docs/decisions.md,
    "Input state").

    The incremental models load only files they have not loaded, so by themselves they would miss a
    file rewritten under the same name, keep the rows of a file removed or renamed, and keep rows
    classified under an older seed or var. Before every run this hook compares the folder and the
    settings with what the working database was built from (schema `meta`):
    - every input file by content: the md5 of its bytes, recomputed whenever its size or
      modification time differ from the recorded ones (or the recorded hash was taken within two
      seconds of the file's modification time, when a same-second rewrite could hide);
    - every incremental model by its settings: its code, the seeds it reads and the vars it names;
    - the models that hold rows back as "future" by the cut-off they used (a cut-off moved back,
      as with an as_of_date set back from a future date, would need rows taken back).
    A file added is what the incremental models are for. Anything else rebuilds the incremental
    models of the affected entity from all its files (the tables are dropped here, so dbt builds
    them as new), with their incremental descendants. The customer facts reuse their previous
    build (previous_build) and are treated the same way; the other customer-level models are
    tables rebuilt every run. When the run does not select every model that has to be rebuilt,
    it stops before changing anything, naming what changed and the command that fixes it. The
    decisions and the new state are recorded in meta.input_files, meta.incremental_models and
    meta.input_state_log. -#}
{% macro reconcile_input_state() %}
    {{ return(adapter.dispatch('reconcile_input_state', 'loyalty_segments')()) }}
{% endmacro %}


{% macro default__reconcile_input_state() %}
    {{ return('') }}
{% endmacro %}


{#- DuckDB reads the folder itself; on PostgreSQL scripts/load_raw.py records the files it loaded,
    with their md5, in raw.input_files (input_files_now). On Spark the incremental models are
    tables rebuilt every run, so there is nothing to reconcile (default: nothing). -#}
{% macro duckdb__reconcile_input_state() %}
    {{ return(reconcile_input_state_with_files()) }}
{% endmacro %}

{% macro postgres__reconcile_input_state() %}
    {{ return(reconcile_input_state_with_files()) }}
{% endmacro %}


{% macro reconcile_input_state_with_files() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set selected = selected_resources -%}
    {%- set builds_something = [] -%}
    {%- for unique_id in selected -%}
        {%- if unique_id.split('.')[0] in ('model', 'test', 'unit_test') -%}
            {%- do builds_something.append(unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if builds_something | length == 0 -%}
        {#- dbt seed, dbt snapshot: nothing that reads the inputs runs; the next build compares -#}
        {{ return('') }}
    {%- endif -%}

    {%- set models = incremental_models_by_entity() -%}
    {%- set current_files = input_files_now() -%}
    {%- set previous = previous_input_state() -%}
    {%- set settings = incremental_model_settings(models.nodes) -%}

    {#- what changed, as (model unique_id, reason) -#}
    {%- set reasons = [] -%}
    {%- if previous.files is none -%}
        {%- for unique_id in models.nodes -%}
            {%- do reasons.append((unique_id, 'no record of the input files it was built from')) -%}
        {%- endfor -%}
    {%- else -%}
        {%- for entity, base_models in models.by_entity.items() -%}
            {%- set before = previous.files.get(entity, {}) -%}
            {%- set now = current_files.get(entity, {}) -%}
            {%- set changes = [] -%}
            {%- for source_file in before | sort -%}
                {%- if source_file not in now -%}
                    {%- do changes.append(source_file ~ ' removed or renamed') -%}
                {%- elif now[source_file].content_hash != before[source_file] -%}
                    {%- do changes.append(source_file ~ ' rewritten (content differs)') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if changes | length > 0 -%}
                {%- set shown = changes[:5] | join(', ') ~ (' and ' ~ (changes | length - 5) ~ ' more' if changes | length > 5 else '') -%}
                {%- for unique_id in base_models -%}
                    {%- do reasons.append((unique_id, entity ~ ' input changed: ' ~ shown)) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for unique_id, setting in settings.items() -%}
            {%- set recorded = previous.models.get(unique_id) -%}
            {%- if recorded is none -%}
                {%- do reasons.append((unique_id, 'no record of the settings it was built with')) -%}
            {%- elif recorded.fingerprint != setting.fingerprint -%}
                {%- set before = fromjson(recorded.parts or '{}') -%}
                {%- set changed = [] -%}
                {%- for name in (setting.parts.keys() | list + before.keys() | list) | unique | sort -%}
                    {%- if setting.parts.get(name) != before.get(name) -%}
                        {%- do changed.append(name) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- do reasons.append((unique_id, 'changed since the last build: ' ~ changed | join(', '))) -%}
            {%- elif setting.future_cutoff and recorded.future_cutoff
                and setting.future_cutoff < recorded.future_cutoff -%}
                {%- do reasons.append((unique_id, 'the "future" cut-off moved back from ' ~ recorded.future_cutoff
                    ~ ' to ' ~ setting.future_cutoff ~ ' (as_of_date or future_tolerance_days)')) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {#- the models to rebuild: those with a reason and their incremental descendants, if built -#}
    {%- set to_rebuild = {} -%}
    {%- for unique_id, reason in reasons -%}
        {%- for affected in [unique_id] + models.descendants[unique_id] -%}
            {%- set why = reason if affected == unique_id
                else 'reads ' ~ models.nodes[unique_id].name ~ ', rebuilt (' ~ reason ~ ')' -%}
            {%- if affected not in to_rebuild -%}
                {%- do to_rebuild.update({affected: why}) -%}
            {%- elif affected == unique_id -%}
                {#- a model's own reasons come first, all of them -#}
                {%- do to_rebuild.update({affected: (why ~ '; ' ~ to_rebuild[affected]) if to_rebuild[affected].startswith('reads ')
                    else (to_rebuild[affected] ~ '; ' ~ why)}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set existing = {} -%}
    {%- for unique_id, reason in to_rebuild.items() -%}
        {%- set node = models.nodes[unique_id] -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- if relation is not none -%}
            {%- do existing.update({unique_id: (relation, reason)}) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set not_selected = [] -%}
    {%- for unique_id in existing | sort -%}
        {%- if unique_id not in selected -%}
            {%- do not_selected.append(unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not_selected | length > 0 -%}
        {%- set lines = [] -%}
        {%- for unique_id in not_selected -%}
            {%- do lines.append('  ' ~ models.nodes[unique_id].name ~ ': ' ~ existing[unique_id][1]) -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            'Input state: the inputs or settings changed since the working database was built, and this run '
            ~ 'does not select the models that have to be rebuilt from the folder as it is now (LOYALTY_DATA_DIR='
            ~ input_data_dir() ~ '):\n' ~ lines | join('\n')
            ~ '\nNothing was changed. Run `dbt build` without a selection (it rebuilds them from all their files), '
            ~ 'or add them to the selection.') }}
    {%- endif -%}

    {%- set log_rows = [] -%}
    {%- set drops = [] -%}
    {%- for unique_id in existing | sort -%}
        {%- set relation, reason = existing[unique_id] -%}
        {%- if not flags.FULL_REFRESH -%}
            {#- dropped by the hook's SQL; the cache must forget it now, so that the model builds as new -#}
            {%- do adapter.cache_dropped(relation) -%}
            {%- do drops.append('drop table if exists ' ~ relation ~ ' cascade') -%}
        {%- endif -%}
        {%- do log('Input state: rebuilding ' ~ models.nodes[unique_id].name ~ ' from all its files: ' ~ reason, info=true) -%}
        {%- do log_rows.append((models.nodes[unique_id].name, reason)) -%}
    {%- endfor -%}
    {{ return((drops + [record_input_state(current_files, settings, log_rows)]) | join(';\n')) }}
{% endmacro %}


{#- The project's incremental models, and the models that reuse their previous build (meta
    reuses_previous_build, previous_build()), which go stale the same way: nodes (unique_id -> node),
    by_entity (the entity of a source a model reads -> the models reading it) and descendants
    (unique_id -> the incremental models downstream of it). -#}
{% macro incremental_models_by_entity() %}
    {%- set nodes = {} -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and (node.config.materialized == 'incremental' or node.config.meta.get('reuses_previous_build')) -%}
            {%- do nodes.update({node.unique_id: node}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set by_entity = {} -%}
    {%- for entity in input_contract() -%}
        {%- set readers = [] -%}
        {%- for unique_id, node in nodes.items() -%}
            {%- for parent in node.depends_on.nodes -%}
                {%- if parent.startswith('source.') and parent.split('.')[-1] == entity -%}
                    {%- do readers.append(unique_id) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do by_entity.update({entity: readers}) -%}
    {%- endfor -%}
    {%- set descendants = {} -%}
    {%- for unique_id in nodes -%}
        {%- set found = [unique_id] -%}
        {%- for _ in nodes -%}
            {%- for candidate, node in nodes.items() -%}
                {%- if candidate not in found -%}
                    {%- for parent in node.depends_on.nodes -%}
                        {%- if parent in found and candidate not in found -%}
                            {%- do found.append(candidate) -%}
                        {%- endif -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do descendants.update({unique_id: found[1:]}) -%}
    {%- endfor -%}
    {{ return({'nodes': nodes, 'by_entity': by_entity, 'descendants': descendants}) }}
{% endmacro %}


{#- Per incremental model: what its rows depend on besides the input files, as parts (its code,
    the checksum of each seed it reads, the value of each var its code names, the input format of
    each entity it reads), their fingerprint,
    and the "future" cut-off it classifies with (models that call max_valid_timestamp). -#}
{% macro incremental_model_settings(nodes) %}
    {%- set settings = {} -%}
    {%- set reference = [run_started_at.strftime('%Y-%m-%d'), as_of_date_value()] | max -%}
    {%- set cutoff = (modules.datetime.date.fromisoformat(reference)
        + modules.datetime.timedelta(days=(var('future_tolerance_days') | int) + 1)).isoformat() -%}
    {%- set format_document = input_format_document() -%}
    {%- for unique_id, node in nodes.items() -%}
        {%- set parts = {'code': node.checksum.checksum} -%}
        {%- for parent in node.depends_on.nodes | sort -%}
            {%- if parent.startswith('seed.') -%}
                {%- do parts.update({'seed ' ~ parent.split('.')[-1]: graph.nodes[parent].checksum.checksum}) -%}
            {%- elif parent.startswith('source.') and parent.split('.')[-1] in input_contract() -%}
                {%- set entity = parent.split('.')[-1] -%}
                {%- do parts.update({'input format ' ~ entity:
                    local_md5(tojson(input_format(entity, format_document), sort_keys=true))}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name in modules.re.findall("var\\(\\s*['\"]([a-z0-9_]+)['\"]", node.raw_code) | unique | sort -%}
            {%- do parts.update({'var ' ~ name: local_md5(tojson(var(name)))}) -%}
        {%- endfor -%}
        {%- do settings.update({unique_id: {
            'parts': parts,
            'fingerprint': local_md5(tojson(parts, sort_keys=true)),
            'future_cutoff': cutoff if 'max_valid_timestamp' in node.raw_code else none,
        }}) -%}
    {%- endfor -%}
    {{ return(settings) }}
{% endmacro %}


{#- The input files now, per entity: source_file (relative to the folder) -> path, size_bytes,
    modified_at and content_hash. The md5 of a file is taken from meta.input_files when its size and
    modification time are the recorded ones and the recorded hash is more than two seconds younger
    than the modification; otherwise the file is read and hashed. -#}
{% macro input_files_now() %}
    {{ return(adapter.dispatch('input_files_now', 'loyalty_segments')()) }}
{% endmacro %}

{#- The files scripts/load_raw.py loaded, as it recorded them (it hashes every file it reads). -#}
{% macro default__input_files_now() %}
    {%- set files = {} -%}
    {%- for entity in input_contract() -%}
        {%- do files.update({entity: {}}) -%}
    {%- endfor -%}
    {%- set query -%}
        select entity, source_file, source_file, size_bytes, modified_at, content_hash, hashed_at
        from {{ var('raw_schema') }}.input_files
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
        {%- if row[0] in files -%}
            {%- do files[row[0]].update({row[1]: {'path': row[2], 'size_bytes': row[3], 'modified_at': row[4],
                'content_hash': row[5], 'hashed_at': row[6]}}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}

{% macro duckdb__input_files_now() %}
    {%- set data_dir = input_data_dir() -%}
    {%- set rows = [] -%}
    {%- set paths = [] -%}
    {%- for entity in input_contract() -%}
        {%- for file in list_input_files(data_dir, entity) -%}
            {%- do paths.append("'" ~ file | replace("'", "''") ~ "'") -%}
            {%- set relative = input_relative_path(data_dir, file) -%}
            {%- do rows.append("('" ~ entity ~ "', '" ~ relative | replace("'", "''") ~ "', '"
                ~ file | replace("'", "''") ~ "')") -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set files = {} -%}
    {%- for entity in input_contract() -%}
        {%- do files.update({entity: {}}) -%}
    {%- endfor -%}
    {%- if rows | length == 0 -%}
        {{ return(files) }}
    {%- endif -%}
    {%- set state_exists = meta_tables_exist(['input_files']) -%}
    {%- set query -%}
        with

        listed as (
            select * from (values {{ rows | join(', ') }}) as listed (entity, source_file, path)
        ),

        stats as (
            select filename as path, size as size_bytes, last_modified as modified_at
            from read_blob([{{ paths | join(', ') }}])
        )

        select
            listed.entity,
            listed.source_file,
            listed.path,
            stats.size_bytes,
            stats.modified_at,
            {% if state_exists -%}
            case
                when recorded.size_bytes = stats.size_bytes
                    and recorded.modified_at = stats.modified_at
                    and stats.modified_at < recorded.hashed_at - interval 2 second
                    then recorded.content_hash
            end as cached_hash,
            case
                when recorded.size_bytes = stats.size_bytes
                    and recorded.modified_at = stats.modified_at
                    and stats.modified_at < recorded.hashed_at - interval 2 second
                    then recorded.hashed_at
            end as cached_hashed_at
            {%- else -%}
            cast(null as varchar) as cached_hash,
            cast(null as timestamptz) as cached_hashed_at
            {%- endif %}
        from listed
        inner join stats on listed.path = stats.path
        {% if state_exists -%}
        left join meta.input_files as recorded
            on listed.entity = recorded.entity and listed.source_file = recorded.source_file
        {%- endif %}
    {%- endset -%}
    {%- set to_hash = [] -%}
    {%- set listed = run_query(query) -%}
    {%- for row in listed.rows -%}
        {%- do files[row[0]].update({row[1]: {'path': row[2], 'size_bytes': row[3], 'modified_at': row[4],
            'content_hash': row[5], 'hashed_at': row[6]}}) -%}
        {%- if row[5] is none -%}
            {%- do to_hash.append(row[2]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if to_hash | length > 0 -%}
        {%- set quoted = [] -%}
        {%- for path in to_hash -%}
            {%- do quoted.append("'" ~ path | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
        {%- set hashes = {} -%}
        {%- for row in run_query('select filename, md5(content), now() from read_blob([' ~ quoted | join(', ') ~ '])').rows -%}
            {%- do hashes.update({row[0]: (row[1], row[2])}) -%}
        {%- endfor -%}
        {%- for entity, by_file in files.items() -%}
            {%- for source_file, file in by_file.items() -%}
                {%- if file.content_hash is none -%}
                    {%- do file.update({'content_hash': hashes[file.path][0], 'hashed_at': hashes[file.path][1]}) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(files) }}
{% endmacro %}


{#- Whether the state tables exist, asked of the catalog directly: the relation cache does not hold
    schema meta, and listing it would open a transaction that dbt rolls back after the hooks. -#}
{% macro meta_tables_exist(tables) %}
    {%- set query -%}
        select count(*) from information_schema.tables
        where table_catalog = current_database() and table_schema = 'meta'
            and table_name in ('{{ tables | join("', '") }}')
    {%- endset -%}
    {{ return(run_query(query).rows[0][0] == tables | length) }}
{% endmacro %}


{#- What the working database was built from: files (entity -> source_file -> md5, or none when
    there is no record) and models (unique_id -> fingerprint and future_cutoff). -#}
{% macro previous_input_state() %}
    {%- set state = {'files': none, 'models': {}} -%}
    {%- if meta_tables_exist(['input_files', 'incremental_models'])
        and run_query("select count(*) from information_schema.columns where table_catalog = current_database()
            and table_schema = 'meta' and table_name = 'incremental_models' and column_name = 'parts'").rows[0][0] == 1 -%}
        {%- set files = {} -%}
        {%- for entity in input_contract() -%}
            {%- do files.update({entity: {}}) -%}
        {%- endfor -%}
        {%- for row in run_query('select entity, source_file, content_hash from meta.input_files').rows -%}
            {%- if row[0] in files -%}
                {%- do files[row[0]].update({row[1]: row[2]}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do state.update({'files': files}) -%}
        {%- for row in run_query('select unique_id, fingerprint, future_cutoff, parts from meta.incremental_models').rows -%}
            {%- do state.models.update({row[0]: {'fingerprint': row[1], 'future_cutoff': row[2], 'parts': row[3]}}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(state) }}
{% endmacro %}


{#- The files of input_files_now() as SQL rows (entity, source_file, size_bytes, modified_at,
    content_hash, hashed_at): what meta.input_files records, and what scripts/load_raw.py hands to
    the engines that cannot read the folder. -#}
{% macro input_file_rows(files) %}
    {%- set rows = [] -%}
    {%- for entity, by_file in files.items() -%}
        {%- for source_file, file in by_file.items() -%}
            {%- do rows.append("('" ~ entity ~ "', '" ~ source_file | replace("'", "''") ~ "', "
                ~ file.size_bytes ~ ", cast('" ~ file.modified_at ~ "' as timestamptz), '" ~ file.content_hash
                ~ "', cast('" ~ file.hashed_at ~ "' as timestamptz))") -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}


{#- The statements writing the state this run builds from, and the log of what it rebuilt and why
    (run as the hook's SQL, after the tables to rebuild are dropped). -#}
{% macro record_input_state(files, settings, log_rows) %}
    {%- set file_rows = input_file_rows(files) -%}
    {%- set model_rows = [] -%}
    {%- for unique_id, setting in settings.items() -%}
        {%- do model_rows.append("('" ~ unique_id ~ "', '" ~ setting.fingerprint ~ "', "
            ~ ("'" ~ setting.future_cutoff ~ "'" if setting.future_cutoff else 'null') ~ ", '"
            ~ tojson(setting.parts, sort_keys=true) | replace("'", "''") ~ "')") -%}
    {%- endfor -%}
    {%- set started = run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') -%}
    {%- set log_values = [] -%}
    {%- for model, reason in log_rows -%}
        {%- do log_values.append("(cast('" ~ started ~ "' as timestamp), '" ~ invocation_id ~ "', '" ~ model
            ~ "', '" ~ reason | replace("'", "''") ~ "')") -%}
    {%- endfor -%}
    {%- set statements -%}
        create schema if not exists meta;
        drop table if exists meta.input_files;
        create table meta.input_files (
            entity varchar, source_file varchar, size_bytes bigint, modified_at timestamptz,
            content_hash varchar, hashed_at timestamptz
        );
        drop table if exists meta.incremental_models;
        create table meta.incremental_models (
            unique_id varchar, fingerprint varchar, future_cutoff varchar, parts varchar
        );
        create table if not exists meta.input_state_log (
            run_started_at timestamp, invocation_id varchar, model varchar, reason varchar
        );
        {% if file_rows | length > 0 -%}
        insert into meta.input_files values {{ file_rows | join(', ') }};
        {%- endif %}
        {% if model_rows | length > 0 -%}
        insert into meta.incremental_models values {{ model_rows | join(', ') }};
        {%- endif %}
        {% if log_values | length > 0 -%}
        insert into meta.input_state_log values {{ log_values | join(', ') }};
        {%- endif %}
    {%- endset -%}
    {{ return(statements) }}
{% endmacro %}
