-- Daily claim totals per company, on a complete company x day spine (days without claims are
-- zeros, so trailing baselines see them), from the first to the last claim day.
with matched as (

    select * from {{ ref('int_claims_matched_to_coverage') }}

),

companies as (

    select * from {{ ref('stg_benefits__companies') }}

),

days as (

    select
        unnest(generate_series(min(claim_date), max(claim_date), interval 1 day))::date
            as claim_date
    from matched

),

spine as (

    select
        companies.company_id,
        days.claim_date
    from companies
    cross join days

),

daily as (

    select
        company_id,
        claim_date,
        count(*) as claim_count,
        sum(amount) as total_amount,
        sum(case when has_coverage then amount else 0 end) as covered_amount,
        sum(case when has_coverage then 0 else amount end) as uncovered_amount,
        count(*) filter (where severity in ('high', 'critical')) as high_severity_count
    from matched
    group by company_id, claim_date

),

final as (

    select
        spine.company_id,
        spine.claim_date,
        coalesce(daily.claim_count, 0) as claim_count,
        coalesce(daily.total_amount, 0) as total_amount,
        coalesce(daily.covered_amount, 0) as covered_amount,
        coalesce(daily.uncovered_amount, 0) as uncovered_amount,
        coalesce(daily.high_severity_count, 0) as high_severity_count
    from spine
    left join daily
        on spine.company_id = daily.company_id
            and spine.claim_date = daily.claim_date

)

select * from final
