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

-- employees.csv is a full extract, re-delivered whole under the same name: neither a file
-- watermark nor a last_updated watermark fits (a row added or changed with a last_updated earlier
-- than the newest one already loaded would be skipped). Each delivered row is compared with the
-- stored row of its employee instead: it is loaded when the employee is new, when its
-- last_updated is newer, or when it is equally recent but differs (the newest delivery wins, as in
-- a full refresh). A row older than the stored one never overwrites it.
{%- set compared = ['company_id', 'first_name', 'last_name', 'email', 'department', 'hire_date',
                    'termination_date', 'source_file'] %}

with employees as (

    select * from {{ ref('base_benefits__employees') }}
    where reject_reason is null

),

deduplicated as (

    -- a MERGE fails when two source rows share a key: keep the latest per employee first
    select * from employees
    qualify
        row_number() over (
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

),

changed as (

    select final.*
    from final
    {% if is_incremental() %}
    left join {{ this }} as stored
        on final.employee_id = stored.employee_id
    where stored.employee_id is null
       or final.last_updated > stored.last_updated
       or (final.last_updated = stored.last_updated
           and (
               {%- for c in compared %}final.{{ c }}{{ ', ' if not loop.last }}{% endfor -%}
           ) is distinct from (
               {%- for c in compared %}stored.{{ c }}{{ ', ' if not loop.last }}{% endfor -%}
           ))
    {% endif %}

)

select * from changed
