{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "{{ drop_claims_read_rejects() }}",
            "{{ audit_incremental_start() }}",
            "{{ delete_lines_of_files_to_load('claims/*.jsonl') }}",
        ],
        post_hook=[
            "{{ append_new_claim_lines('claims/*.jsonl') }}",
            "{{ reread_suspect_claim_files('claims/*.jsonl') }}",
            "{{ record_loaded_files(lines_loaded_by_this_run()) }}",
            "{{ audit_incremental_finish() }}",
        ]
    )
}}

-- Every line of every claims file, cast, with the reason it is rejected (null when accepted).
-- employee_id may arrive as a zero-padded string ("000123"): the cast to bigint normalises it.
-- Incremental by file: a run parses only the file versions (name, size, modification time) not
-- loaded yet (dbt_audit.loaded_files) and appends their lines; a file delivered again under the
-- same name first loses its old lines (pre-hook). A full refresh reads every file. A table built
-- by an older version of this model gets the new columns (sync_all_columns) and, with no file
-- listed in dbt_audit.loaded_files yet, every file is read again, so no full refresh is needed to
-- upgrade. The raw text is kept for rejected lines only. The parsing itself is
-- macros/parsed_claim_lines.sql.
-- On an incremental run this select is empty (it only gives the columns, so on_schema_change
-- still sees them) and the post-hook append_new_claim_lines inserts the new files' lines straight
-- into the table: dbt's append would write them to a temporary table first and then copy it, a
-- quarter of the run for a day of 5M lines.
{#- the files behind this source are read line by line below #}
{%- do source('benefits', 'claims') %}
{%- set pattern = 'claims/*.jsonl' %}

{%- if is_incremental() %}
select * from ({{ parsed_claim_lines(pattern, []) }}) as columns_only where false
{%- else %}
    {{ parsed_claim_lines(pattern, feed_files(pattern), rejects_label=claims_read_rejects()) }}
{%- endif %}
