{#- The lineage columns every staging model carries (DESIGN.md "Metadata Columns"). On a merge,
    `dbt_inserted_at` is excluded from the update so it keeps the first load's time. -#}
{% macro metadata_columns() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as dbt_inserted_at,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as dbt_updated_at,
    '{{ invocation_id }}' as dbt_job_id
{%- endmacro %}
