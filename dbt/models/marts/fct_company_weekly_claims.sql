-- Weekly claim totals per company. Still reads the deprecated fct_claims_daily (not migrated yet),
-- so every parse warns about it until it is moved to fct_company_daily_claims.
with daily as (

    select * from {{ ref('fct_claims_daily') }}

),

final as (

    select
        cast(company_id || ':' || cast(date_trunc('week', day) as date) as varchar)
            as company_week_id,
        cast(company_id as bigint) as company_id,
        cast(date_trunc('week', day) as date) as week_start,
        cast(sum(claims) as bigint) as claim_count,
        cast(sum(amount) as decimal(18, 2)) as total_amount
    from daily
    group by company_id, date_trunc('week', day)

)

select * from final
