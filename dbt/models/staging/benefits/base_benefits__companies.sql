-- Every line of companies.csv, cast, with the reason it is rejected (null when it is accepted).
with source as (

    select * from {{ source('benefits', 'companies') }}

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

final as (

    select
        *,
        case
            when field_count is null then 'unparseable_csv'
            when field_count <> 5 then 'wrong_column_count'
            when company_id is null then 'invalid_company_id'
            when last_updated is null then 'invalid_last_updated'
        end as reject_reason
    from parsed

)

select * from final
