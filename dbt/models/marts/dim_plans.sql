with plans as (

    select * from {{ ref('stg_benefits__plans') }}

),

final as (

    select
        cast(plan_id as bigint) as plan_id,
        cast(company_id as bigint) as company_id,
        cast(plan_name as varchar) as plan_name,
        cast(plan_type as varchar) as plan_type,
        cast(carrier as varchar) as carrier,
        cast(monthly_premium as decimal(18, 2)) as monthly_premium,
        cast(deductible as decimal(18, 2)) as deductible,
        cast(last_updated as timestamp) as last_updated
    from plans

)

select * from final
