{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='claim_id',
        merge_exclude_columns=['dbt_inserted_at'],
        on_schema_change='fail',
        pre_hook="{{ audit_incremental_start() }}",
        post_hook="{{ audit_incremental_finish() }}"
    )
}}

with claims as (

    select * from {{ ref('base_benefits__claims') }}
    where reject_reason is null
    {% if is_incremental() %}
        -- only claim versions newer than the newest already loaded (the watermark); a re-delivered
        -- claim carries a newer last_updated and replaces its old version through the merge
        and last_updated > (select coalesce(max(last_updated), timestamp '1900-01-01') from {{ this }})
    {% endif %}

),

deduplicated as (

    -- one row per claim: the latest version; a claim re-sent twice in one file collapses here
    -- (a MERGE fails when two source rows share a key)
    select * from claims
    qualify row_number() over (
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
