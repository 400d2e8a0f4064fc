{{ config(materialized='table') }}

-- Every line that could not be staged, from every feed, with its file, line and reason.
-- Rebuilt in full on every run (it reads the feeds again), so it is idempotent whatever the
-- incremental staging models do: rows read = rows accepted + rows rejected for every file.

{% set feeds = ['companies', 'employees', 'plans', 'enrollments', 'claims'] %}

with
{% for feed in feeds %}
{{ feed }} as (

    select
        '{{ feed }}' as feed,
        source_file,
        source_line,
        reject_reason,
        raw_line
    from {{ ref('base_benefits__' ~ feed) }}
    where reject_reason is not null

),
{% endfor %}

unioned as (

    {% for feed in feeds %}
    select * from {{ feed }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

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
