-- One row per claim (its latest version) with the employee's company and whether a coverage
-- period was active on the service date.
with claims as (

    select * from {{ ref('stg_benefits__claims') }}

),

matched as (

    select * from {{ ref('int_claims_matched_to_coverage') }}

),

coverage_per_claim as (

    select
        claim_id,
        any_value(company_id) as company_id,
        bool_or(has_coverage) as has_active_coverage,
        min(enrolled_plan_id) as enrolled_plan_id
    from matched
    group by claim_id

),

final as (

    select
        cast(claims.claim_id as bigint) as claim_id,
        cast(claims.employee_id as bigint) as employee_id,
        cast(coverage_per_claim.company_id as bigint) as company_id,
        cast(claims.plan_id as bigint) as plan_id,
        cast(coverage_per_claim.enrolled_plan_id as bigint) as enrolled_plan_id,
        cast(claims.service_date as date) as service_date,
        cast(claims.claim_date as date) as claim_date,
        cast(claims.submitted_at as timestamp) as submitted_at,
        cast(claims.amount as decimal(18, 2)) as amount,
        cast(claims.severity as varchar) as severity,
        cast(claims.status as varchar) as status,
        cast(claims.diagnosis_code as varchar) as diagnosis_code,
        cast(coverage_per_claim.has_active_coverage as boolean) as has_active_coverage,
        cast(claims.last_updated as timestamp) as last_updated,
        cast(claims.source_file as varchar) as source_file
    from claims
    left join coverage_per_claim on claims.claim_id = coverage_per_claim.claim_id

)

select * from final
