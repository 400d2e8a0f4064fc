{#- A custom incremental strategy, `incremental_strategy='newest_version'`: like a merge on
    `unique_key` that keeps each key's newest version in `version_order` (default last_updated,
    source_file, source_line: the order the model's de-duplication and a full refresh use), so an
    incoming version older than the stored one never overwrites it. A replaced row keeps its first
    `dbt_inserted_at` (the merge's merge_exclude_columns), and is stamped with the run's job id.

    Written as delete + insert instead of MERGE: an UPDATE of rows scattered over a large table makes
    DuckDB rewrite every touched row group at the commit's checkpoint (most of the table for one
    day's late updates), while deleted rows are only marked and new rows appended. -#}

{% macro get_incremental_newest_version_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set order = config.get('version_order', ['last_updated', 'source_file', 'source_line']) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if key is not string -%}
        {{ exceptions.raise_compiler_error("newest_version needs one unique_key column, got " ~ key) }}
    {%- endif -%}
    {%- set versions = source.identifier ~ '__stored_versions' %}
    -- the incoming keys already stored, read from the target once: is the incoming version newer?
    create or replace temp table {{ versions }} as
    select incoming.{{ key }}, stored.dbt_inserted_at,
           {{ version_tuple('incoming', order) }} > {{ version_tuple('stored', order) }} as is_newer
    from {{ source }} as incoming join {{ target }} as stored on incoming.{{ key }} = stored.{{ key }};
    -- an incoming version not newer than the stored one is dropped
    delete from {{ source }} where {{ key }} in (select {{ key }} from {{ versions }} where not is_newer);
    -- a newer one replaces the stored row and keeps its first insertion time
    update {{ source }} as incoming set dbt_inserted_at = v.dbt_inserted_at
    from {{ versions }} as v where incoming.{{ key }} = v.{{ key }};
    delete from {{ target }} where {{ key }} in (select {{ key }} from {{ versions }} where is_newer);
    insert into {{ target }} ({{ columns }}) select {{ columns }} from {{ source }};
    drop table {{ versions }}
{% endmacro %}

{% macro version_tuple(alias, order) -%}
    ({% for c in order %}{{ alias }}.{{ c }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
