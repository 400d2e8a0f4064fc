-- Company-days whose claim total is far above the company's own trailing baseline.
-- Rule (vars in dbt_project.yml): over the spike_window_days days before the day (zeros included),
-- with at least spike_min_history_days of them available, the day is a spike when
--     total_amount > baseline_mean + spike_stddevs * baseline_stddev
-- and total_amount > spike_min_ratio * baseline_mean.
with daily as (

    select * from {{ ref('fct_company_daily_claims') }}

),

baselines as (

    select
        *,
        avg(total_amount) over trailing_days as baseline_mean,
        stddev_pop(total_amount) over trailing_days as baseline_stddev,
        count(*) over trailing_days as baseline_days
    from daily
    window trailing_days as (
        partition by company_id order by claim_date
        rows between {{ var('spike_window_days') }} preceding and 1 preceding
    )

),

final as (

    select
        cast(company_day_id as varchar) as company_day_id,
        cast(company_id as bigint) as company_id,
        cast(claim_date as date) as claim_date,
        cast(claim_count as bigint) as claim_count,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(baseline_mean as double) as baseline_mean,
        cast(baseline_stddev as double) as baseline_stddev,
        cast(baseline_days as bigint) as baseline_days,
        cast(total_amount / nullif(baseline_mean, 0) as double) as ratio_to_baseline
    from baselines
    where baseline_days >= {{ var('spike_min_history_days') }}
        and total_amount > baseline_mean + {{ var('spike_stddevs') }} * baseline_stddev
        and total_amount > {{ var('spike_min_ratio') }} * baseline_mean

)

select * from final
