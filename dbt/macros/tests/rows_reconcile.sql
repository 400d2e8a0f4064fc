{#- Generic test: for every value of `group_by`, `total` equals the sum of `parts`
    (e.g. lines read = rows accepted + rows rejected per file). -#}
{% test rows_reconcile(model, total, parts, group_by) %}
    select {{ group_by }}, {{ total }} as total, {{ parts | join(' + ') }} as parts_sum
    from {{ model }}
    where {{ total }} <> {{ parts | join(' + ') }}
{% endtest %}
