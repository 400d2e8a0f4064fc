-- Every line of employees.csv, cast, with the reason it is rejected (null when it is accepted).
-- Lines the reader cannot decode (invalid UTF-8) are found first and rejected with their line; the
-- source skips them and the lines after them get their true numbers back (macros/feed_lines.sql).
{%- set errors = feed_line_errors(feed_files('employees.csv'), this.identifier) %}
{%- set skipped = errors.skipped.get('employees.csv', []) %}

with source as (

    {{ renumbered_feed(source('benefits', 'employees'), skipped) }}

),

parsed as (

    select
        _source_file as source_file,
        _source_line as source_line,
        _raw_line as raw_line,
        _field_count as field_count,
        try_cast(trim(employee_id) as bigint) as employee_id,
        try_cast(trim(company_id) as bigint) as company_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(department), '') as department,
        try_cast(hire_date as date) as hire_date,
        nullif(trim(termination_date), '') as termination_date_raw,
        try_cast(termination_date as date) as termination_date,
        last_updated
    from source

),

classified as (

    select
        * exclude (termination_date_raw),
        case
            when coalesce(trim(raw_line), '') = '' then 'blank_line'
            when field_count is null then 'unparseable_csv'
            when field_count <> 9 then 'wrong_column_count'
            when employee_id is null then 'invalid_employee_id'
            when company_id is null then 'invalid_company_id'
            when hire_date is null then 'invalid_hire_date'
            when termination_date_raw is not null and termination_date is null
                then 'invalid_termination_date'
            when last_updated is null then 'invalid_last_updated'
        end as reject_reason
    from parsed

),

unreadable as (

    {{ unreadable_feed_lines('employees.csv', skipped) }}

),

final as (

    select * from classified
    union all by name
    select * from unreadable

)

select * from final
