with enrollments as (

    select * from {{ ref('base_benefits__enrollments') }}
    where reject_reason is null

),

deduplicated as (

    -- one row per enrollment id; rows re-sent under a new id are NOT caught here (that is a
    -- content duplicate, and the incident scenario relies on it reaching the marts)
    select * from enrollments
    qualify
        row_number() over (
            partition by enrollment_id order by last_updated desc, source_line desc
        ) = 1

),

final as (

    select
        enrollment_id,
        employee_id,
        plan_id,
        coverage_tier,
        coverage_start,
        coverage_end,
        last_updated,
        source_file,
        {{ metadata_columns() }}
    from deduplicated

)

select * from final
