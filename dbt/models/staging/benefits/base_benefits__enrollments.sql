-- Every line of enrollments.csv, cast, with the reason it is rejected (null when it is accepted).
with source as (

    select * from {{ source('benefits', 'enrollments') }}

),

parsed as (

    select
        _source_file as source_file,
        _source_line as source_line,
        _raw_line as raw_line,
        _field_count as field_count,
        try_cast(trim(enrollment_id) as bigint) as enrollment_id,
        try_cast(trim(employee_id) as bigint) as employee_id,
        try_cast(trim(plan_id) as bigint) as plan_id,
        lower(nullif(trim(coverage_tier), '')) as coverage_tier,
        try_cast(coverage_start as date) as coverage_start,
        nullif(trim(coverage_end), '') as coverage_end_raw,
        try_cast(coverage_end as date) as coverage_end,
        last_updated
    from source

),

final as (

    select
        * exclude (coverage_end_raw),
        case
            when field_count is null then 'unparseable_csv'
            when field_count <> 7 then 'wrong_column_count'
            when enrollment_id is null then 'invalid_enrollment_id'
            when employee_id is null then 'invalid_employee_id'
            when plan_id is null then 'invalid_plan_id'
            when coverage_start is null then 'invalid_coverage_start'
            when coverage_end_raw is not null and coverage_end is null then 'invalid_coverage_end'
            when last_updated is null then 'invalid_last_updated'
        end as reject_reason
    from parsed

)

select * from final
