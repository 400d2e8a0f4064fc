{{ config(materialized='table') }}

-- Every line of every claims file, cast, with the reason it is rejected (null when it is accepted).
-- employee_id may arrive as a zero-padded string ("000123"): the cast to bigint normalises it.
-- A table, so the JSON is parsed once per build (staging, rejects and feed loads all read it);
-- the raw text is kept for rejected lines only.
with source as (

    select * from {{ source('benefits', 'claims') }}

),

parsed as (

    select
        _source_file as source_file,
        _source_line as source_line,
        _raw_line as raw_line,
        _is_valid_json as is_valid_json,
        try_cast(trim(claim_id) as bigint) as claim_id,
        try_cast(trim(employee_id) as bigint) as employee_id,
        plan_id as plan_id_raw,
        try_cast(trim(plan_id) as bigint) as plan_id,
        try_cast(service_date as date) as service_date,
        try_cast(submitted_at as timestamp) as submitted_at,
        try_cast(amount as decimal(18, 2)) as amount,
        lower(severity) as severity,
        lower(status) as status,
        diagnosis_code,
        last_updated
    from source

),

classified as (

    select
        *,
        case
            when not is_valid_json then 'invalid_json'
            when claim_id is null then 'invalid_claim_id'
            when employee_id is null then 'invalid_employee_id'
            when plan_id_raw is not null and plan_id is null then 'invalid_plan_id'
            when service_date is null then 'invalid_service_date'
            when submitted_at is null then 'invalid_submitted_at'
            when amount is null then 'invalid_amount'
            when last_updated is null then 'invalid_last_updated'
        end as reject_reason
    from parsed

),

final as (

    select
        * exclude (plan_id_raw, raw_line),
        case when reject_reason is not null then raw_line end as raw_line
    from classified

)

select * from final
