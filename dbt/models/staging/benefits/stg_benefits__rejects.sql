{{ config(materialized='table') }}

-- Every line that could not be staged, from every feed, with its file, line and reason.
-- Rebuilt in full on every run (it reads the feeds again), so it is idempotent whatever the
-- incremental staging models do: rows read = rows accepted + rows rejected for every file.

with feed_lines as (

    {{ union_feed_lines(['source_file', 'source_line', 'reject_reason', 'raw_line']) }}

),

unioned as (

    select * from feed_lines
    where reject_reason is not null

),

final as (

    select
        feed || ':' || source_file || ':' || source_line as reject_id,
        feed,
        source_file,
        source_line,
        reject_reason,
        raw_line,
        {{ metadata_columns() }}
    from unioned

)

select * from final
