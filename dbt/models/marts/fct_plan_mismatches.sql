-- Claims whose plan is wrong, one row per claim, with the first reason that applies:
--   missing_plan: the claim has no plan_id;
--   plan_not_offered_by_company: the plan is unknown or belongs to another company;
--   not_enrolled_plan: the employee was covered on the service date, but by other plan(s).
with matched as (

    select * from {{ ref('int_claims_matched_to_coverage') }}

),

plans as (

    select * from {{ ref('stg_benefits__plans') }}

),

per_claim as (

    select
        claim_id,
        any_value(employee_id) as employee_id,
        any_value(company_id) as company_id,
        any_value(plan_id) as plan_id,
        any_value(service_date) as service_date,
        any_value(amount) as amount,
        bool_or(has_coverage) as has_coverage,
        bool_or(enrolled_plan_id = plan_id) as matches_enrollment,
        min(enrolled_plan_id) as enrolled_plan_id
    from matched
    group by claim_id

),

classified as (

    select
        per_claim.*,
        plans.company_id as plan_company_id,
        case
            when per_claim.plan_id is null then 'missing_plan'
            -- plans.company_id is distinct from per_claim.company_id, spelled out (sqlfluff's
            -- duckdb dialect cannot parse IS DISTINCT FROM)
            when not coalesce(
                    plans.company_id = per_claim.company_id,
                    plans.company_id is null and per_claim.company_id is null
                ) then 'plan_not_offered_by_company'
            when per_claim.has_coverage and not per_claim.matches_enrollment
                then 'not_enrolled_plan'
        end as mismatch_reason
    from per_claim
    left join plans on per_claim.plan_id = plans.plan_id

),

final as (

    select
        cast(claim_id as bigint) as claim_id,
        cast(employee_id as bigint) as employee_id,
        cast(company_id as bigint) as company_id,
        cast(plan_id as bigint) as plan_id,
        cast(enrolled_plan_id as bigint) as enrolled_plan_id,
        cast(plan_company_id as bigint) as plan_company_id,
        cast(service_date as date) as service_date,
        cast(amount as decimal(18, 2)) as amount,
        cast(mismatch_reason as varchar) as mismatch_reason
    from classified
    where mismatch_reason is not null

)

select * from final
