-- Every version of every employee (SCD type 2, from the snapshot), without personal fields.
with history as (

    select * from {{ ref('snp_benefits__employees') }}

),

final as (

    select
        cast(dbt_scd_id as varchar) as employee_version_id,
        cast(employee_id as bigint) as employee_id,
        cast(company_id as bigint) as company_id,
        cast(department as varchar) as department,
        cast(hire_date as date) as hire_date,
        cast(termination_date as date) as termination_date,
        cast(dbt_valid_from as timestamp) as valid_from,
        cast(dbt_valid_to as timestamp) as valid_to,
        cast(dbt_valid_to is null as boolean) as is_current
    from history

)

select * from final
