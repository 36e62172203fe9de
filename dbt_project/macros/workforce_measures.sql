{#-
    SQL generated from the measure registry (`vars: measures:` in dbt_project.yml, docs/measures.md).
    Counts are summed; every rate is derived from counts by `workforce_rates`, for a single
    reporting unit and for a group alike, so a group's rate is always a ratio of summed counts.
    No model lists measures by hand: each asks these macros.
-#}

{#- Every measure column, in EES order. -#}
{% macro workforce_measure_columns() %}
    {{ return(var('measures').keys() | list) }}
{% endmacro %}

{% macro workforce_count_columns() %}
    {%- set names = [] -%}
    {%- for name, measure in var('measures').items() if measure.count is defined -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{% macro workforce_rate_columns() %}
    {%- set names = [] -%}
    {%- for name, measure in var('measures').items() if measure.rate is defined -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{#- Counts published as whole numbers (headcounts, cases): the marts hold them as bigint. -#}
{% macro workforce_whole_count_columns() %}
    {%- set names = [] -%}
    {%- for name, measure in var('measures').items() if measure.count is defined and measure.decimals == 0 -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{#- The most decimal places any count's inputs have: counts summed as decimals of this scale are exact. -#}
{% macro workforce_count_scale() %}
    {%- set places = [] -%}
    {%- for measure in var('measures').values() if measure.count is defined -%}
        {%- do places.append(measure.count.input_decimals) -%}
    {%- endfor -%}
    {{ return(places | max) }}
{% endmacro %}

{#-
    Every count of one return as select items: a worker-role count from the relation of those
    aggregates (`worker_roles`), an LA-level count from the return's LA-level block (`la_level`).
-#}
{% macro workforce_return_count_columns(worker_roles, la_level) %}
    {%- for name, measure in var('measures').items() if measure.count is defined %}
        {%- if measure.count.la_level is defined %}
        {{ la_level }}.{{ measure.count.la_level }}{{ ' as ' ~ name if measure.count.la_level != name }}
        {%- else %}
        {{ worker_roles }}.{{ name }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#-
    The aggregate of one worker-role count over int_worker_roles_flagged rows, as the registry says:
    which flags a role must have, then a sum (exact, as a decimal of its inputs' places; 0 when no
    role qualifies, or NULL with null_when_unreported) or a distinct count of a key.
-#}
{% macro workforce_worker_count(rule) -%}
    {%- set conditions = [] -%}
    {%- for flag, wanted in rule.where.items() -%}
        {%- do conditions.append(flag if wanted else 'not ' ~ flag) -%}
    {%- endfor -%}
    {%- set filter = ' filter (where ' ~ (conditions | join(' and ')) ~ ')' -%}
    {%- if rule.distinct is defined -%}
        {%- set key = rule.distinct[0] if rule.distinct | length == 1 else '(' ~ (rule.distinct | join(', ')) ~ ')' -%}
        count(distinct {{ key }}){{ filter }}
    {%- else -%}
        {%- set summed = rule.sum if rule.input_decimals == 0 else 'cast(' ~ rule.sum ~ ' as decimal(18, ' ~ rule.input_decimals ~ '))' -%}
        {%- if rule.null_when_unreported | default(false) -%}
        sum({{ summed }}){{ filter }}
        {%- else -%}
        coalesce(sum({{ summed }}){{ filter }}, 0)
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Every worker-role count of one return, as `<aggregate> as <name>` select items. -#}
{% macro workforce_worker_counts() %}
    {%- for name, measure in var('measures').items() if measure.count is defined and measure.count.la_level is not defined %}
        {{ workforce_worker_count(measure.count) }} as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#- Working days in collection year `year`: 253, and 254 in a year holding 29 February (docs/measures.md). -#}
{% macro working_days_in_year(year) -%}
    ({{ var('absence_working_days') }} + case when {{ year }} % 4 = 0 and ({{ year }} % 100 != 0 or {{ year }} % 400 = 0) then 1 else 0 end)
{%- endmacro %}

{#-
    A count as a whole number of the smallest step its inputs are written in (10^-places, places
    from workforce_count_scale): exact, and exact as a double for any count a census can hold.
-#}
{% macro workforce_count_steps(expression, type='double precision') -%}
    cast(round(({{ expression }}) * {{ 10 ** workforce_count_scale() }}) as {{ type }})
{%- endmacro %}

{#-
    The numerator and denominator of a rate as whole numbers (exact_integer(): exact), working days and
    scale folded in: value = numerator / denominator. `numerator` and `denominator` are the SQL of
    the two counts, e.g. 'sum(leavers_fte)'.
-#}
{% macro workforce_rate_fraction(rate, numerator, denominator, year_column='time_period') -%}
    {%- set top = workforce_count_steps(numerator, exact_integer()) ~ ' * ' ~ rate.scale -%}
    {%- set bottom = workforce_count_steps(denominator, exact_integer()) -%}
    {%- if rate.per_working_day | default(false) -%}
        {%- set bottom = bottom ~ ' * ' ~ working_days_in_year(year_column) -%}
    {%- endif -%}
    {{ return([top, bottom]) }}
{%- endmacro %}

{#-
    numerator / denominator * scale (per working day when the rate says so), as one division of two
    whole numbers: the double is the one nearest the exact ratio, so 23 / 80 * 100 is 28.75 (not
    28.749999999999996) and rounding it for display rounds the exact value. NULL when the
    denominator is zero or missing.
-#}
{% macro workforce_ratio_sql(rate, numerator, denominator, year_column='time_period') -%}
    {%- set bottom = workforce_count_steps(denominator) -%}
    {%- if rate.per_working_day | default(false) -%}
        {%- set bottom = bottom ~ ' * ' ~ working_days_in_year(year_column) -%}
    {%- endif -%}
    {{ workforce_count_steps(numerator) }} * {{ rate.scale }} / nullif({{ bottom }}, 0)
{%- endmacro %}

{#- One rate of one unit's counts; NULL when the denominator is zero or missing. -#}
{% macro workforce_rate_sql(rate, year_column='time_period') -%}
    {{ workforce_ratio_sql(rate, rate.numerator, rate.denominator | join(' + '), year_column) }}
{%- endmacro %}

{#-
    Rate columns from count columns. With aggregate=true the counts are summed over the group's
    members first; a member missing either side of a rate (a suppressed or unreported value) is
    left out of both sides, as DfE does for its own England figures. A zero or missing denominator
    gives NULL, never a division error.
-#}
{% macro workforce_rates(aggregate=false, year_column='time_period') %}
    {%- for name, measure in var('measures').items() if measure.rate is defined %}
        {%- set rate = measure.rate -%}
        {%- if aggregate %}
        {{ workforce_pooled_rate_sql(rate, year_column) }} as {{ name }}
        {%- else %}
        {{ workforce_rate_sql(rate, year_column) }} as {{ name }}
        {%- endif -%}
        {{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#- One rate of a group: its members' summed numerator over their summed denominator, members lacking a side left out. -#}
{% macro workforce_pooled_rate_sql(rate, year_column='time_period') -%}
    {%- set present = ' filter (where ' ~ workforce_rate_present(rate) ~ ')' -%}
    {%- set numerator = 'sum(' ~ rate.numerator ~ ')' ~ present -%}
    {%- set denominator = 'sum(' ~ (rate.denominator | join(' + ')) ~ ')' ~ present -%}
    {{ workforce_ratio_sql(rate, numerator, denominator, year_column) }}
{%- endmacro %}

{#- The condition under which a member counts towards a group's rate: it has both sides of it. -#}
{% macro workforce_rate_present(rate) -%}
    {%- set conditions = [] -%}
    {%- for column in [rate.numerator] + rate.denominator -%}{%- do conditions.append(column ~ ' is not null') -%}{%- endfor -%}
    {{ return(conditions | join(' and ')) }}
{%- endmacro %}

{#-
    `fraction` ([numerator, denominator] of whole numbers) rounded half-up to `decimals` places (a
    number or a column),
    exactly, as a whole number of 10^-decimals: DfE's rounding of the exact value, with no float
    in between. NULL when the denominator is zero or missing.
-#}
{% macro half_up_steps(fraction, decimals) -%}
    {{ integer_divide(
        '2 * (' ~ fraction[0] ~ ') * cast(power(10, ' ~ decimals ~ ') as ' ~ exact_integer() ~ ') + (' ~ fraction[1] ~ ')',
        'nullif(2 * (' ~ fraction[1] ~ '), 0)'
    ) }}
{%- endmacro %}

{#- `<text column>`'s DfE symbol with its meaning ('c: suppressed to protect confidentiality'), else NULL. -#}
{% macro dfe_symbol_reason(text_column) -%}
    case {{ text_column }}
        {%- for symbol, entry in var('dfe_symbols').items() %}
        when '{{ symbol }}' then '{{ symbol }}: {{ entry.meaning }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- True when a council's value is still ranked although DfE published `<symbol column>` in its place. -#}
{% macro dfe_symbol_is_ranked(symbol_column) -%}
    case {{ symbol_column }}
        {%- for symbol, entry in var('dfe_symbols').items() %}
        when '{{ symbol }}' then {{ 'true' if entry.ranked else 'false' }}
        {%- endfor %}
        else true
    end
{%- endmacro %}

{#- A value of the registry as a SQL literal: NULL when absent, text quoted, lists as lists. -#}
{% macro registry_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is string -%}
        '{{ value | replace("'", "''") }}'
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is iterable -%}
        array[{%- for item in value -%}{{ registry_literal(item) }}{{ ", " if not loop.last }}{%- endfor -%}]
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}

{#- How the warehouse computes the measure for one return, as the SQL it runs. -#}
{% macro workforce_measure_sql(measure) -%}
    {%- if measure.rate is defined -%}
        {{ workforce_rate_sql(measure.rate) }}
    {%- elif measure.count.la_level is defined -%}
        la_level.{{ measure.count.la_level }}
    {%- else -%}
        {{ workforce_worker_count(measure.count) }}
    {%- endif -%}
{%- endmacro %}

{#- A count as the fraction [whole steps, steps per unit], for half_up_steps. -#}
{% macro workforce_count_fraction(expression) -%}
    {{ return([workforce_count_steps(expression, exact_integer()), 10 ** workforce_count_scale()]) }}
{%- endmacro %}

{#-
    Each rate's numerator and denominator as summed over a group's members (`<rate>__numerator`,
    `<rate>__denominator`), leaving out a member that lacks either side, as workforce_rates does:
    the exact parts the reconciliation rounds.
-#}
{% macro workforce_group_rate_parts() %}
    {%- for name, measure in var('measures').items() if measure.rate is defined %}
        {%- set present = workforce_rate_present(measure.rate) %}
        sum({{ measure.rate.numerator }}) filter (where {{ present }}) as {{ name }}__numerator,
        sum({{ measure.rate.denominator | join(' + ') }}) filter (where {{ present }}) as {{ name }}__denominator,
        count(*) filter (where {{ present }} and source = 'dfe_published') as {{ name }}__rounded_members,
        count(*) filter (where not coalesce({{ present }}, false)) as {{ name }}__members_without_figures
        {{- "," if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#- Rate columns from the parts workforce_group_rate_parts made. -#}
{% macro workforce_rates_from_parts(year_column='time_period') %}
    {%- for name, measure in var('measures').items() if measure.rate is defined %}
        {{ workforce_ratio_sql(measure.rate, name ~ '__numerator', name ~ '__denominator', year_column) }} as {{ name }}
        {{- "," if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#-
    a - b for two values shown rounded: subtracted as decimals of 12 places, so a difference of
    exactly 0.05 is 0.05 (and rounds half up to 0.1), not the float 0.04999999999999716.
-#}
{% macro exact_difference(a, b) -%}
    cast(cast({{ a }} as decimal(24, 12)) - cast({{ b }} as decimal(24, 12)) as double precision)
{%- endmacro %}
