{#- Generic test: the column is never below zero (nulls pass; pair with not_null). -#}
{% test not_negative(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0
{% endtest %}
