{#-
    Fails on every combination of the given columns that occurs on more than one row: the
    compound key of a model (e.g. time_period, area_code, measure) is not unique.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
