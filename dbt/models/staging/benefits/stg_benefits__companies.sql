with companies as (

    select * from {{ ref('base_benefits__companies') }}
    where reject_reason is null

),

deduplicated as (

    -- the latest version of each company in the delivery wins
    select * from companies
    qualify
        row_number() over (
            partition by company_id order by last_updated desc, source_line desc
        ) = 1

),

final as (

    select
        company_id,
        company_name,
        industry,
        state,
        last_updated,
        source_file,
        {{ metadata_columns() }}
    from deduplicated

)

select * from final
