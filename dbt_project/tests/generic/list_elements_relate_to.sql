{#-
    relationships for list columns: fails on every element of the list column that has no match
    in `field` of `to`, e.g. a member or neighbour code in a list that is not a known LA.
-#}
{% test list_elements_relate_to(model, column_name, to, field) %}

with

elements as (
    select unnest({{ column_name }}) as element
    from {{ model }}
),

targets as (
    select {{ field }} as target_value
    from {{ to }}
)

select distinct elements.element as unmatched_element
from elements
left join targets on elements.element = targets.target_value
where elements.element is not null and targets.target_value is null

{% endtest %}
