{#- The claims lines of `files` (from feed_files), parsed: one row per physical line with its file,
    line number, typed fields, reject reason (null when accepted), raw text for rejected lines only,
    and the metadata columns. `unreadable` (from feed_line_errors) or `rejects_label`: see feed_lines.

    base_benefits__claims reads its files optimistically: one read with ignore_errors, then the
    post-hook reread_suspect_claim_files reads again exactly (feed_line_errors first) only the files
    where that read skipped a line or met an empty row. A clean feed is read once, not twice (the
    quarantined read took 11.6 s of a 252 s build at the incident scale). -#}

{% macro parsed_claim_lines(pattern, files, unreadable={'skipped': {}, 'crlf': []}, rejects_label=none) %}
    with lines as (

        {{ feed_lines(pattern, files, unreadable, rejects_label) }}

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
{% endmacro %}

{% macro claims_read_rejects() -%}
    {{ this.identifier }}__read
{%- endmacro %}

{% macro append_new_claim_lines(pattern) %}
    {#- Post-hook of base_benefits__claims on an incremental run: insert the parsed lines of the file
        versions not loaded yet (their old versions' lines went in the pre-hook), read optimistically. -#}
    {%- if is_incremental() -%}
    {%- set files = feed_files(pattern, not_loaded_by=this.identifier) -%}
    {%- if files -%}
    insert into {{ this }} by name
    select * from ({{ parsed_claim_lines(pattern, files, rejects_label=claims_read_rejects()) }}) as new_lines
    {%- endif -%}
    {%- endif -%}
{% endmacro %}

{% macro reread_suspect_claim_files(pattern) %}
    {#- Post-hook of base_benefits__claims: the files this run read optimistically whose lines may be
        misnumbered lose them and are read again exactly. -#}
    {%- set suspects = optimistic_read_suspects(claims_read_rejects(),
        "select source_file from " ~ this ~ " where dbt_job_id = '" ~ invocation_id ~ "' and reject_reason = 'blank_line'") -%}
    {%- if not suspects -%}{{ return('') }}{%- endif -%}
    {%- set files = [] -%}
    {%- for file in feed_files(pattern) if file.name in suspects -%}{%- do files.append(file) -%}{%- endfor -%}
    {%- if files -%}
    delete from {{ this }} where dbt_job_id = '{{ invocation_id }}'
        and source_file in ({% for file in files %}{{ sql_string(file.name) }}{{ ', ' if not loop.last }}{% endfor %});
    insert into {{ this }} by name
    select * from ({{ parsed_claim_lines(pattern, files, feed_line_errors(files, this.identifier)) }}) as read_exactly
    {%- endif -%}
{% endmacro %}

{% macro drop_claims_read_rejects() %}
    {#- Pre-hook: rejects tables left on this connection by an earlier failed run would name its files. -#}
    {%- do drop_read_rejects(claims_read_rejects()) -%}
{% endmacro %}
