-- Every line of enrollments.csv, cast, with the reason it is rejected (null when it is accepted).
-- Lines the reader cannot decode (invalid UTF-8) are found first and rejected with their line; the
-- source skips them and the lines after them get their true numbers back (macros/feed_lines.sql).
{%- set errors = feed_line_errors(feed_files('enrollments.csv'), this.identifier) %}
{%- set skipped = errors.skipped.get('enrollments.csv', []) %}

with source as (

    {{ renumbered_feed(source('benefits', 'enrollments'), skipped) }}

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

classified as (

    select
        * exclude (coverage_end_raw),
        case
            when coalesce(trim(raw_line), '') = '' then 'blank_line'
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

),

unreadable as (

    {{ unreadable_feed_lines('enrollments.csv', skipped) }}

),

final as (

    select * from classified
    union all by name
    select * from unreadable

)

select * from final
