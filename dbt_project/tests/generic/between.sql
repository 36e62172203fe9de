{#-
    Fails on every row whose value lies outside [min_value, max_value] (both inclusive; leave one
    out for an open bound). NULL passes: whether a value may be missing is not_null's business.
    Restrict the rows checked with the standard test config, e.g. `config: {where: "..."}`.
-#}
{% test between(model, column_name, min_value=none, max_value=none) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("between: give min_value, max_value or both") }}
{%- endif %}

select {{ column_name }} as out_of_range_value
from {{ model }}
where
    {{ column_name }} is not null
    and (
        false
        {%- if min_value is not none %}
        or {{ column_name }} < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or {{ column_name }} > {{ max_value }}
        {%- endif %}
    )

{% endtest %}
