-- Every line of companies.csv, cast, with the reason it is rejected (null when it is accepted).
-- Lines the reader cannot decode (invalid UTF-8) are found first and rejected with their line; the
-- source skips them and the lines after them get their true numbers back (macros/feed_lines.sql).
{%- set errors = feed_line_errors(feed_files('companies.csv'), this.identifier) %}
{%- set skipped = errors.skipped.get('companies.csv', []) %}

with source as (

    {{ renumbered_feed(source('benefits', 'companies'), skipped) }}

),

parsed as (

    select
        _source_file as source_file,
        _source_line as source_line,
        _raw_line as raw_line,
        _field_count as field_count,
        try_cast(trim(company_id) as bigint) as company_id,
        nullif(trim(company_name), '') as company_name,
        nullif(trim(industry), '') as industry,
        upper(nullif(trim(state), '')) as state,
        last_updated
    from source

),

classified as (

    select
        *,
        case
            when coalesce(trim(raw_line), '') = '' then 'blank_line'
            when field_count is null then 'unparseable_csv'
            when field_count <> 5 then 'wrong_column_count'
            when company_id is null then 'invalid_company_id'
            when last_updated is null then 'invalid_last_updated'
        end as reject_reason
    from parsed

),

unreadable as (

    {{ unreadable_feed_lines('companies.csv', skipped) }}

),

final as (

    select * from classified
    union all by name
    select * from unreadable

)

select * from final
