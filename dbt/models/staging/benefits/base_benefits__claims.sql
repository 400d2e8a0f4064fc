{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ audit_incremental_start() }}", "{{ delete_lines_of_files_to_load('claims/*.jsonl') }}"],
        post_hook=["{{ record_loaded_files(lines_loaded_by_this_run()) }}", "{{ audit_incremental_finish() }}"]
    )
}}

-- Every line of every claims file, cast, with the reason it is rejected (null when it is accepted).
-- employee_id may arrive as a zero-padded string ("000123"): the cast to bigint normalises it.
-- Incremental by file: a run parses only the file versions (name, size, modification time) not
-- loaded yet (dbt_audit.loaded_files) and appends their lines; a file delivered again under the same
-- name first loses its old lines (pre-hook). A full refresh reads every file. A table built by an
-- older version of this model gets the new columns (sync_all_columns) and, with no file listed in
-- dbt_audit.loaded_files yet, every file is read again, so no full refresh is needed to upgrade.
-- The raw text is kept for rejected lines only.
{%- do source('benefits', 'claims') %}  {#- the files behind this source are read line by line below #}
{%- set pattern = 'claims/*.jsonl' %}
{%- set files = feed_files(pattern, not_loaded_by=this.identifier if is_incremental() else none) %}
{%- set unreadable = feed_line_errors(files, this.identifier) %}

with lines as (

    {{ feed_lines(pattern, files, unreadable) }}

),

extracted as (

    -- try(): a line that is not JSON gives a null list instead of an error, so each line is parsed
    -- once (a json_valid guard parsed every line twice)
    select
        *,
        case when read_error is null then try(json_extract_string(line, [
            '$.claim_id', '$.employee_id', '$.plan_id', '$.service_date', '$.submitted_at', '$.amount',
            '$.severity', '$.status', '$.diagnosis_code', '$.last_updated'
        ])) end as f
    from lines

),

parsed as (

    select
        source_file,
        source_line,
        file_size,
        file_modified_at,
        line as raw_line,
        read_error,
        f is not null as is_valid_json,
        try_cast(trim(f[1]) as bigint) as claim_id,
        try_cast(trim(f[2]) as bigint) as employee_id,
        f[3] as plan_id_raw,
        try_cast(trim(f[3]) as bigint) as plan_id,
        try_cast(f[4] as date) as service_date,
        try_cast(f[5] as timestamp) as submitted_at,
        try_cast(f[6] as decimal(18, 2)) as amount,
        lower(f[7]) as severity,
        lower(f[8]) as status,
        f[9] as diagnosis_code,
        try_cast(f[10] as timestamp) as last_updated
    from extracted

),

classified as (

    select
        *,
        case
            when read_error is not null then read_error
            when coalesce(trim(raw_line), '') = '' then 'blank_line'
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
        * exclude (plan_id_raw, raw_line, read_error),
        case when reject_reason is not null then raw_line end as raw_line,
        {{ metadata_columns() }}
    from classified

)

select * from final
