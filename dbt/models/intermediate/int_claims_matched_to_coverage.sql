-- Each claim matched to the coverage period(s) active on its service date.
-- Grain: one row per claim and matching period. Enrollment periods of an employee do not overlap
-- in a clean feed, so this is one row per claim; duplicated enrollment rows fan it out.
with claims as (

    select * from {{ ref('stg_benefits__claims') }}

),

employees as (

    select * from {{ ref('stg_benefits__employees') }}

),

periods as (

    select * from {{ ref('int_coverage_periods_sequenced') }}

),

final as (

    select
        claims.claim_id,
        claims.employee_id,
        employees.company_id,
        claims.plan_id,
        claims.service_date,
        claims.claim_date,
        claims.amount,
        claims.severity,
        claims.status,
        periods.enrollment_id,
        periods.plan_id as enrolled_plan_id,
        periods.enrollment_id is not null as has_coverage
    from claims
    left join employees on claims.employee_id = employees.employee_id
    left join periods
        on claims.employee_id = periods.employee_id
            and claims.service_date
            between periods.coverage_start and periods.coverage_end_effective

)

select * from final
