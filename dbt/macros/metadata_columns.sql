{#- The lineage columns every staging model carries (DESIGN.md "Metadata Columns"). An updated row
    keeps its first load's `dbt_inserted_at` (merge_exclude_columns in a merge; the newest_version
    strategy copies it). -#}
{% macro metadata_columns() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as dbt_inserted_at,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as dbt_updated_at,
    '{{ invocation_id }}' as dbt_job_id
{%- endmacro %}
