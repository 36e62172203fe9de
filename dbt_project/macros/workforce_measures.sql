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
    ({{ var('absence_working_days') }} + case when {{ year }} % 4 = 0 and ({{ year }} % 100 <> 0 or {{ year }} % 400 = 0) then 1 else 0 end)
{%- endmacro %}

{#- What multiplies numerator / denominator of a rate, for the collection year in `year_column`. -#}
{% macro workforce_rate_scale(rate, year_column) -%}
    {%- if rate.per_working_day | default(false) -%}
        {{ rate.scale }} / {{ working_days_in_year(year_column) }}
    {%- else -%}
        {{ rate.scale }}
    {%- endif -%}
{%- endmacro %}

{#- One rate of one unit's counts; NULL when the denominator is zero or missing. -#}
{% macro workforce_rate_sql(rate, year_column='time_period') -%}
    {{ rate.numerator }} / nullif({{ rate.denominator | join(' + ') }}, 0) * {{ workforce_rate_scale(rate, year_column) }}
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
        {%- set scale = workforce_rate_scale(rate, year_column) -%}
        {%- set denominator = rate.denominator | join(' + ') -%}
        {%- if aggregate %}
            {%- set conditions = [] -%}
            {%- for column in [rate.numerator] + rate.denominator -%}{%- do conditions.append(column ~ ' is not null') -%}{%- endfor -%}
            {%- set present = conditions | join(' and ') -%}
        sum({{ rate.numerator }}) filter (where {{ present }})
            / nullif(sum({{ denominator }}) filter (where {{ present }}), 0)
            * {{ scale }} as {{ name }}
        {%- else %}
        {{ workforce_rate_sql(rate, year_column) }} as {{ name }}
        {%- endif -%}
        {{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}

{#- `<text column>`'s DfE symbol with its meaning ('c: suppressed to protect confidentiality'), else NULL. -#}
{% macro dfe_symbol_reason(text_column) -%}
    case {{ text_column }}
        {%- for symbol, meaning in var('dfe_symbols').items() %}
        when '{{ symbol }}' then '{{ symbol }}: {{ meaning }}'
        {%- endfor %}
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
        [{%- for item in value -%}{{ registry_literal(item) }}{{ ", " if not loop.last }}{%- endfor -%}]
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
