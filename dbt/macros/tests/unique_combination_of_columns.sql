{#- Generic test: no two rows share the same values of `combination_of_columns` (a model's grain).
    Same name and argument as dbt_utils' test (no packages can be installed here), so tools that
    know that one read this one too. Nulls count as a value, as in dbt_utils. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as rows_with_these_values
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
