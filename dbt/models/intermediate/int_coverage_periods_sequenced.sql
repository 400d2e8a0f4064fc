-- One row per enrollment (coverage period), with the employee's company and, for gap
-- detection, the latest coverage end among the employee's earlier periods.
with enrollments as (

    select * from {{ ref('stg_benefits__enrollments') }}

),

employees as (

    select * from {{ ref('stg_benefits__employees') }}

),

joined as (

    select
        enrollments.enrollment_id,
        enrollments.employee_id,
        employees.company_id,
        enrollments.plan_id,
        enrollments.coverage_tier,
        enrollments.coverage_start,
        enrollments.coverage_end,
        -- an open period, or one that outlives the employment, ends with the employment
        least(
            coalesce(enrollments.coverage_end, date '9999-12-31'),
            coalesce(employees.termination_date, date '9999-12-31')
        ) as coverage_end_effective
    from enrollments
    left join employees on enrollments.employee_id = employees.employee_id

),

final as (

    select
        *,
        row_number() over by_start as period_number,
        max(coverage_end_effective) over (
            by_start rows between unbounded preceding and 1 preceding
        ) as previous_coverage_end
    from joined
    window by_start as (partition by employee_id order by coverage_start, enrollment_id)

)

select * from final
