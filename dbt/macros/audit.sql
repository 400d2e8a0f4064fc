{#- The incremental audit (DESIGN.md "dbt_audit tables").

    dbt_audit.incremental_runs: every run of an incremental model appends one row. The pre-hook
    notes the table's size and newest last_updated before the run in a temp table (same connection
    as the model), the post-hook compares after the run:
      rows_inserted = rows after - rows before (a merge never deletes),
      rows_updated  = rows stamped with this invocation id - rows_inserted,
      files_loaded  = file versions this run loaded (from dbt_audit.loaded_files),
      watermark_before / watermark_after = the newest last_updated in the table: informational only,
      since loads are decided by file (the load watermark below), never by last_updated.
    A full refresh (or first build) records every row as inserted.

    dbt_audit.loaded_files: the load watermark. One row per file version (name, size, modification
    time) an incremental model has loaded; the model's next run loads only file versions not listed
    here. A full refresh clears the model's rows first (pre-hook) and lists every file again. The
    rows are written by a post-hook inside the model's transaction, so they commit with its data. -#}

{% macro create_audit_table() %}
    create schema if not exists dbt_audit;
    create table if not exists dbt_audit.incremental_runs (
        invocation_id varchar,
        model varchar,
        run_mode varchar,
        rows_before bigint,
        rows_after bigint,
        rows_inserted bigint,
        rows_updated bigint,
        watermark_before timestamp,
        watermark_after timestamp,
        run_started_at timestamp,
        recorded_at timestamp
    );
    alter table dbt_audit.incremental_runs add column if not exists files_loaded bigint;
    create table if not exists dbt_audit.loaded_files (
        model varchar,
        source_file varchar,
        file_size bigint,
        file_modified_at timestamp,
        lines bigint,
        invocation_id varchar,
        loaded_at timestamp
    )
{% endmacro %}

{% macro audit_temp_table() -%}
    audit_before__{{ this.identifier }}
{%- endmacro %}

{% macro audit_incremental_start(watermark='last_updated') %}
    create or replace temp table {{ audit_temp_table() }} as
    {% if is_incremental() %}
    select 'incremental' as run_mode, count(*) as rows_before, max({{ watermark }}) as watermark_before
    from {{ this }}
    {% else %}
    select 'full_refresh' as run_mode, 0::bigint as rows_before, null::timestamp as watermark_before
    {% endif %};
    {% if not is_incremental() %}
    delete from dbt_audit.loaded_files where model = '{{ this.identifier }}';
    {% endif %}
{% endmacro %}

{% macro audit_incremental_finish(watermark='last_updated') %}
    insert into dbt_audit.incremental_runs (
        invocation_id, model, run_mode, rows_before, rows_after, rows_inserted, rows_updated,
        watermark_before, watermark_after, run_started_at, recorded_at, files_loaded)
    with after_run as (
        select count(*) as rows_after,
               count(*) filter (where dbt_job_id = '{{ invocation_id }}') as rows_touched,
               max({{ watermark }}) as watermark_after
        from {{ this }}
    ),
    files as (
        select count(*) as files_loaded from dbt_audit.loaded_files
        where model = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
    )
    select '{{ invocation_id }}', '{{ this.identifier }}', b.run_mode, b.rows_before, a.rows_after,
           a.rows_after - b.rows_before,
           a.rows_touched - (a.rows_after - b.rows_before),
           b.watermark_before, a.watermark_after,
           cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp),
           cast(now() at time zone 'UTC' as timestamp),
           f.files_loaded
    from {{ audit_temp_table() }} b, after_run a, files f;
    drop table {{ audit_temp_table() }}
{% endmacro %}

