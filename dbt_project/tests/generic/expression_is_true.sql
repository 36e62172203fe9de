{#-
    Fails on every row where the SQL expression is false (NULL counts as passing, so write the
    expression to say what must hold whenever its inputs are present). For rules that tie columns
    of one row together, e.g. `la_rank <= ranked_units`. Attached to a column, the column only
    says where the rule is documented; the expression names the columns it needs.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
