with companies as (

    select * from {{ ref('stg_benefits__companies') }}

),

employees as (

    select * from {{ ref('stg_benefits__employees') }}

),

plans as (

    select * from {{ ref('stg_benefits__plans') }}

),

employee_counts as (

    select
        company_id,
        count(*) as employee_count,
        count(*) filter (where termination_date is null) as active_employee_count
    from employees
    group by company_id

),

plan_counts as (

    select
        company_id,
        count(*) as plan_count
    from plans
    group by company_id

),

final as (

    select
        cast(companies.company_id as bigint) as company_id,
        cast(companies.company_name as varchar) as company_name,
        cast(companies.industry as varchar) as industry,
        cast(companies.state as varchar) as state,
        cast(coalesce(employee_counts.employee_count, 0) as bigint) as employee_count,
        cast(coalesce(employee_counts.active_employee_count, 0) as bigint) as active_employee_count,
        cast(coalesce(plan_counts.plan_count, 0) as bigint) as plan_count,
        cast(companies.last_updated as timestamp) as last_updated
    from companies
    left join employee_counts on companies.company_id = employee_counts.company_id
    left join plan_counts on companies.company_id = plan_counts.company_id

)

select * from final
