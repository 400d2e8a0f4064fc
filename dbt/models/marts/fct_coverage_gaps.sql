-- Coverage gaps of two kinds:
--   claim_without_coverage: a claim whose service date falls in no coverage period of the employee;
--   gap_between_periods: days between the end of an employee's coverage and the start of the next
--   period (only when the next period starts more than one day after every earlier period ended).
with matched as (

    select * from {{ ref('int_claims_matched_to_coverage') }}

),

periods as (

    select * from {{ ref('int_coverage_periods_sequenced') }}

),

uncovered_claims as (

    select
        'claim:' || claim_id as gap_id,
        'claim_without_coverage' as gap_type,
        employee_id,
        company_id,
        claim_id,
        cast(null as bigint) as enrollment_id,
        service_date as gap_start,
        service_date as gap_end,
        1 as gap_days,
        amount
    from matched
    where not has_coverage

),

between_periods as (

    select
        'period:' || enrollment_id as gap_id,
        'gap_between_periods' as gap_type,
        employee_id,
        company_id,
        cast(null as bigint) as claim_id,
        enrollment_id,
        cast(previous_coverage_end + 1 as date) as gap_start,
        cast(coverage_start - 1 as date) as gap_end,
        coverage_start - previous_coverage_end - 1 as gap_days,
        cast(null as decimal(18, 2)) as amount
    from periods
    where coverage_start > previous_coverage_end + 1

),

unioned as (

    select * from uncovered_claims
    union all
    select * from between_periods

),

final as (

    select
        cast(gap_id as varchar) as gap_id,
        cast(gap_type as varchar) as gap_type,
        cast(employee_id as bigint) as employee_id,
        cast(company_id as bigint) as company_id,
        cast(claim_id as bigint) as claim_id,
        cast(enrollment_id as bigint) as enrollment_id,
        cast(gap_start as date) as gap_start,
        cast(gap_end as date) as gap_end,
        cast(gap_days as bigint) as gap_days,
        cast(amount as decimal(18, 2)) as amount
    from unioned

)

select * from final
