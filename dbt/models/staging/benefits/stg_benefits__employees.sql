{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='employee_id',
        merge_exclude_columns=['dbt_inserted_at'],
        on_schema_change='fail',
        pre_hook="{{ audit_incremental_start() }}",
        post_hook="{{ audit_incremental_finish() }}"
    )
}}

with employees as (

    select * from {{ ref('base_benefits__employees') }}
    where reject_reason is null
    {% if is_incremental() %}
        -- only rows changed since the newest version already loaded (the watermark)
        and last_updated > (select coalesce(max(last_updated), timestamp '1900-01-01') from {{ this }})
    {% endif %}

),

deduplicated as (

    -- a MERGE fails when two source rows share a key: keep the latest per employee first
    select * from employees
    qualify row_number() over (
        partition by employee_id order by last_updated desc, source_line desc
    ) = 1

),

final as (

    select
        employee_id,
        company_id,
        first_name,
        last_name,
        email,
        department,
        hire_date,
        termination_date,
        last_updated,
        source_file,
        {{ metadata_columns() }}
    from deduplicated

)

select * from final
