-- Claims received per company and day (by submission date), zeros included.
with daily as (

    select * from {{ ref('int_claims_aggregated_to_company_days') }}

),

final as (

    select
        cast(company_id || ':' || claim_date as varchar) as company_day_id,
        cast(company_id as bigint) as company_id,
        cast(claim_date as date) as claim_date,
        cast(claim_count as bigint) as claim_count,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(covered_amount as decimal(18, 2)) as covered_amount,
        cast(uncovered_amount as decimal(18, 2)) as uncovered_amount,
        cast(high_severity_count as bigint) as high_severity_count
    from daily

)

select * from final
