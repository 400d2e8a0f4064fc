{{
    config(
        materialized='incremental',
        incremental_strategy='newest_version',
        unique_key='claim_id',
        on_schema_change='fail',
        pre_hook="{{ audit_incremental_start() }}",
        post_hook=["{{ record_loaded_files(base_files_not_loaded(ref('base_benefits__claims'))) }}",
                   "{{ audit_incremental_finish() }}"]
    )
}}

-- The load watermark is the set of claims files already loaded (dbt_audit.loaded_files), not the
-- newest last_updated: a run takes every line of the files not loaded yet, whatever their
-- last_updated (a partner feed may carry later timestamps than the regular feed of the same day
-- delivered after it). Each claim keeps its newest version, in the same order a full refresh uses:
-- last_updated, then file name, then line. An incoming version older than the stored one does not
-- overwrite it (the newest_version strategy), so the result never depends on delivery order.
{%- set new_files = none %}
{%- if is_incremental() %}
    {%- set new_files = base_files_not_loaded(ref('base_benefits__claims'), names_only=true) %}
{%- endif %}

with claims as (

    select * from {{ ref('base_benefits__claims') }}
    where reject_reason is null
    {% if new_files is not none %}
        and source_file in (
            {%- for name in new_files %}{{ sql_string(name) }}{{ ', ' if not loop.last }}
            {%- else %}null{% endfor -%}
        )
    {% endif %}

),

deduplicated as (

    -- one row per claim: its newest version; a claim re-sent twice in one file collapses here
    -- (a MERGE fails when two source rows share a key)
    select * from claims
    qualify
        row_number() over (
            partition by claim_id order by last_updated desc, source_file desc, source_line desc
        ) = 1

),

final as (

    select
        claim_id,
        employee_id,
        plan_id,
        service_date,
        submitted_at,
        cast(submitted_at as date) as claim_date,
        amount,
        severity,
        status,
        diagnosis_code,
        last_updated,
        source_file,
        source_line,
        {{ metadata_columns() }}
    from deduplicated

)

select * from final
