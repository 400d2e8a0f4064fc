{#- Every line of every benefits feed (the base_benefits__<feed> models), tagged with its feed
    name, keeping the given columns. The one place that lists the feeds. -#}
{% macro union_feed_lines(columns) %}
    {%- for feed in ['companies', 'employees', 'plans', 'enrollments', 'claims'] %}
    select '{{ feed }}' as feed, {{ columns | join(', ') }}
    from {{ ref('base_benefits__' ~ feed) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}
