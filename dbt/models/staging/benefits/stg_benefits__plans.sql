with plans as (

    select * from {{ ref('base_benefits__plans') }}
    where reject_reason is null

),

deduplicated as (

    select * from plans
    qualify
        row_number() over (
            partition by plan_id order by last_updated desc, source_line desc
        ) = 1

),

final as (

    select
        plan_id,
        company_id,
        plan_name,
        plan_type,
        carrier,
        monthly_premium,
        deductible,
        last_updated,
        source_file,
        {{ metadata_columns() }}
    from deduplicated

)

select * from final
