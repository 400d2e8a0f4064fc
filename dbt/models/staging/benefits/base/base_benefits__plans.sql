-- Every element of plans.json, cast, with the reason it is rejected (null when it is accepted).
with source as (

    select * from {{ source('benefits', 'plans') }}

),

parsed as (

    select
        _source_file as source_file,
        _source_line as source_line,
        _raw_line as raw_line,
        try_cast(trim(plan_id) as bigint) as plan_id,
        try_cast(trim(company_id) as bigint) as company_id,
        nullif(trim(plan_name), '') as plan_name,
        upper(nullif(trim(plan_type), '')) as plan_type,
        nullif(trim(carrier), '') as carrier,
        try_cast(monthly_premium as decimal(18, 2)) as monthly_premium,
        try_cast(deductible as decimal(18, 2)) as deductible,
        last_updated
    from source

),

final as (

    select
        *,
        case
            when plan_id is null then 'invalid_plan_id'
            when company_id is null then 'invalid_company_id'
            when monthly_premium is null then 'invalid_monthly_premium'
            when deductible is null then 'invalid_deductible'
            when last_updated is null then 'invalid_last_updated'
        end as reject_reason
    from parsed

)

select * from final
