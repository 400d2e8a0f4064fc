-- Every rejected line counted in fct_feed_loads is in stg_benefits__rejects, file by file
-- (both are rebuilt in full, so they must agree after any run).
with loads as (

    select
        feed,
        source_file,
        rows_rejected
    from {{ ref('fct_feed_loads') }}

),

rejects as (

    select
        feed,
        source_file,
        count(*) as rejected
    from {{ ref('stg_benefits__rejects') }}
    group by feed, source_file

),

final as (

    select
        loads.feed,
        loads.source_file,
        loads.rows_rejected,
        coalesce(rejects.rejected, 0) as rejected
    from loads
    full outer join rejects
        on loads.feed = rejects.feed and loads.source_file = rejects.source_file
    where coalesce(loads.rows_rejected, -1) <> coalesce(rejects.rejected, 0)

)

select * from final
