-- The current version of each employee (no personal fields), with when that version became valid
-- and how many versions the snapshot holds. The full history is dim_employees_history.
with employees as (

    select * from {{ ref('stg_benefits__employees') }}

),

history as (

    select * from {{ ref('snp_benefits__employees') }}

),

versions as (

    select
        employee_id,
        count(*) as version_count,
        max(dbt_valid_from) filter (where dbt_valid_to is null) as current_valid_from
    from history
    group by employee_id

),

final as (

    select
        cast(employees.employee_id as bigint) as employee_id,
        cast(employees.company_id as bigint) as company_id,
        cast(employees.department as varchar) as department,
        cast(employees.hire_date as date) as hire_date,
        cast(employees.termination_date as date) as termination_date,
        cast(employees.termination_date is not null as boolean) as is_terminated,
        cast(coalesce(versions.current_valid_from, employees.last_updated) as timestamp)
            as valid_from,
        cast(coalesce(versions.version_count, 1) as bigint) as version_count,
        cast(employees.last_updated as timestamp) as last_updated
    from employees
    left join versions on employees.employee_id = versions.employee_id

)

select * from final
