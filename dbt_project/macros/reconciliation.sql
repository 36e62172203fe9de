{#-
    Every measure of a row of `relation`, one row each, for `cross join lateral`: the recomputed value,
    the exact fraction [numerator, denominator] of whole numbers it is, and the slack on each side
    that rounding allows where members' figures are DfE's rounded ones (`rounded_members`: the
    relation is int_workforce_groups, with its `<measure>__rounded_members` counts, and
    `<measure>__members_without_figures`: members DfE published a symbol for and no return replaced,
    left out of the recomputed value). A count's published rounding is half a unit at its decimals;
    a rate's slack adds its counts'.
-#}
{% macro workforce_measure_fractions(relation, rounded_members) %}
    {#- Half of one published unit of a count with 0 decimals, in the counts' whole steps. -#}
    {%- set half_step = 10 ** workforce_count_scale() // 2 %}
    (
        values
        {%- for name, measure in var('measures').items() %}
        {%- if measure.rate is defined %}
        {%- if rounded_members %}
        {%- set fraction = workforce_rate_fraction(measure.rate, relation ~ '.' ~ name ~ '__numerator', relation ~ '.' ~ name ~ '__denominator') %}
        {%- set members = relation ~ '.' ~ name ~ '__rounded_members' %}
        {%- set missing = relation ~ '.' ~ name ~ '__members_without_figures' %}
        {%- else %}
        {%- set fraction = workforce_rate_fraction(measure.rate, relation ~ '.' ~ measure.rate.numerator, relation ~ '.' ~ (measure.rate.denominator | join(' + ' ~ relation ~ '.'))) %}
        {%- set members = '0' %}
        {%- set missing = '0' %}
        {%- endif %}
        {%- set per_day = ' * ' ~ working_days_in_year(relation ~ '.time_period') if measure.rate.per_working_day | default(false) else '' %}
        (
            '{{ name }}',
            {{ relation }}.{{ name }},
            {{ fraction[0] }},
            {{ fraction[1] }},
            cast({{ members }} as {{ exact_integer() }})
                * {{ half_step // 10 ** var('measures')[measure.rate.numerator].decimals }} * {{ measure.rate.scale }},
            cast({{ members }} as {{ exact_integer() }}) * (
                {%- for part in measure.rate.denominator %}
                {{ half_step // 10 ** var('measures')[part].decimals }}{{ ' + ' if not loop.last }}
                {%- endfor %}){{ per_day }},
            cast({{ members }} as integer),
            cast({{ missing }} as integer)
        )
        {%- else %}
        {%- set fraction = workforce_count_fraction(relation ~ '.' ~ name) %}
        {%- set members = relation ~ '.' ~ name ~ '__rounded_members' if rounded_members else '0' %}
        {%- set missing = relation ~ '.' ~ name ~ '__members_without_figures' if rounded_members else '0' %}
        (
            '{{ name }}',
            cast({{ relation }}.{{ name }} as double precision),
            {{ fraction[0] }},
            cast({{ fraction[1] }} as {{ exact_integer() }}),
            cast({{ members }} as {{ exact_integer() }}) * {{ half_step // 10 ** measure.decimals }},
            cast(0 as {{ exact_integer() }}),
            cast({{ members }} as integer),
            cast({{ missing }} as integer)
        )
        {%- endif %}
        {{- "," if not loop.last }}
        {%- endfor %}
    ) as measure_fractions (
        measure,
        recomputed_value,
        numerator,
        denominator,
        numerator_slack,
        denominator_slack,
        rounded_members,
        members_without_figures
    )
{% endmacro %}
