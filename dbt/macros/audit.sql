{#- The incremental audit (DESIGN.md "dbt_audit tables"): every run of an incremental model appends
    one row to dbt_audit.incremental_runs. The pre-hook notes the table's size and watermark before
    the run in a temp table (same connection as the model), the post-hook compares after the run:
      rows_inserted = rows after - rows before (a merge never deletes),
      rows_updated  = rows stamped with this invocation id - rows_inserted.
    A full refresh (or first build) records every row as inserted. -#}

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
    {% endif %}
{% endmacro %}

{% macro audit_incremental_finish(watermark='last_updated') %}
    insert into dbt_audit.incremental_runs
    with after_run as (
        select count(*) as rows_after,
               count(*) filter (where dbt_job_id = '{{ invocation_id }}') as rows_touched,
               max({{ watermark }}) as watermark_after
        from {{ this }}
    )
    select '{{ invocation_id }}', '{{ this.identifier }}', b.run_mode, b.rows_before, a.rows_after,
           a.rows_after - b.rows_before,
           a.rows_touched - (a.rows_after - b.rows_before),
           b.watermark_before, a.watermark_after,
           cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp),
           cast(now() at time zone 'UTC' as timestamp)
    from {{ audit_temp_table() }} b, after_run a;
    drop table {{ audit_temp_table() }}
{% endmacro %}
