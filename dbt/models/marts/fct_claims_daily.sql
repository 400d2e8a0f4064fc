-- DEPRECATED: the first version of the daily claims mart, kept for a transition period with its
-- old column names. Use fct_company_daily_claims (see dbt/README.md, "Safe deprecation").
with daily as (

    select * from {{ ref('fct_company_daily_claims') }}

),

final as (

    select
        cast(company_id as bigint) as company_id,
        -- the old column name, a keyword, kept until the model is removed
        cast(claim_date as date) as day,  -- noqa: RF04
        cast(claim_count as bigint) as claims,
        cast(total_amount as decimal(18, 2)) as amount
    from daily

)

select * from final
