-- One row per delivered file of every feed: lines read, rows accepted, rows rejected, and the
-- range of last_updated it carried. For every file lines_read = rows_accepted + rows_rejected.

with unioned as (

    {{ union_feed_lines(['source_file', 'reject_reason', 'last_updated']) }}

),

final as (

    select
        cast(feed || ':' || source_file as varchar) as feed_file_id,
        cast(feed as varchar) as feed,
        cast(source_file as varchar) as source_file,
        cast(count(*) as bigint) as lines_read,
        cast(count(*) filter (where reject_reason is null) as bigint) as rows_accepted,
        cast(count(*) filter (where reject_reason is not null) as bigint) as rows_rejected,
        cast(min(last_updated) as timestamp) as min_last_updated,
        cast(max(last_updated) as timestamp) as max_last_updated
    from unioned
    group by feed, source_file

)

select * from final
