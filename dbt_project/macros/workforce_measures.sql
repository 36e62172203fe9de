{#-
    The DfE workforce measures in one place (definitions: docs/measures.md).
    Counts are summed; every rate is derived from counts by `workforce_rates`, for a single
    reporting unit and for a group alike, so a group's rate is always a ratio of summed counts.
-#}

{% macro workforce_count_columns() %}
    {{ return([
        'inpost_fte', 'inpost_headcount', 'starters_fte', 'starters_headcount',
        'leavers_fte', 'leavers_headcount', 'agency_fte', 'agency_headcount',
        'agency_cover_fte', 'vacancy_fte', 'case_holders_fte', 'cases', 'working_days_lost_fte'
    ]) }}
{% endmacro %}

{% macro workforce_rate_definitions() %}
    {{ return([
        {'name': 'turnover_rate_fte', 'numerator': 'leavers_fte', 'denominator': ['inpost_fte'], 'scale': 100},
        {'name': 'turnover_rate_headcount', 'numerator': 'leavers_headcount', 'denominator': ['inpost_headcount'], 'scale': 100},
        {'name': 'agency_rate_fte', 'numerator': 'agency_fte', 'denominator': ['agency_fte', 'inpost_fte'], 'scale': 100},
        {'name': 'agency_rate_headcount', 'numerator': 'agency_headcount', 'denominator': ['agency_headcount', 'inpost_headcount'], 'scale': 100},
        {'name': 'agency_cover_rate_fte', 'numerator': 'agency_cover_fte', 'denominator': ['agency_fte'], 'scale': 100},
        {'name': 'vacancy_rate_fte', 'numerator': 'vacancy_fte', 'denominator': ['vacancy_fte', 'inpost_fte'], 'scale': 100},
        {'name': 'vacancy_agency_cover_rate_fte', 'numerator': 'agency_cover_fte', 'denominator': ['vacancy_fte'], 'scale': 100},
        {'name': 'caseload_fte', 'numerator': 'cases', 'denominator': ['case_holders_fte'], 'scale': 1},
        {'name': 'absence_rate_fte', 'numerator': 'working_days_lost_fte', 'denominator': ['inpost_fte'], 'scale': '100.0 / ' ~ working_days_in_year('{year}')}
    ]) }}
{% endmacro %}

{% macro workforce_rate_columns() %}
    {%- set names = [] -%}
    {%- for rate in workforce_rate_definitions() -%}{%- do names.append(rate.name) -%}{%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{#- Every measure column in EES order. -#}
{% macro workforce_measure_columns() %}
    {{ return([
        'inpost_fte', 'inpost_headcount', 'starters_fte', 'starters_headcount', 'leavers_fte',
        'leavers_headcount', 'turnover_rate_fte', 'turnover_rate_headcount', 'agency_fte',
        'agency_headcount', 'agency_rate_fte', 'agency_rate_headcount', 'agency_cover_fte',
        'agency_cover_rate_fte', 'vacancy_fte', 'vacancy_rate_fte', 'vacancy_agency_cover_rate_fte',
        'case_holders_fte', 'cases', 'caseload_fte', 'working_days_lost_fte', 'absence_rate_fte'
    ]) }}
{% endmacro %}

{#-
    Rate columns from count columns. With aggregate=true the counts are summed over the group's
    members first; a member missing either side of a rate (a suppressed or unreported value) is
    left out of both sides, as DfE does for its own England figures. A zero or missing denominator
    gives NULL, never a division error.
-#}
{#- Working days in collection year `year`: 253, and 254 in a year holding 29 February (docs/measures.md). -#}
{% macro working_days_in_year(year) -%}
    ({{ var('absence_working_days') }} + case when {{ year }} % 4 = 0 and ({{ year }} % 100 <> 0 or {{ year }} % 400 = 0) then 1 else 0 end)
{%- endmacro %}

{% macro workforce_rates(aggregate=false, year_column='time_period') %}
    {%- for rate in workforce_rate_definitions() %}
        {%- set scale = (rate.scale | string) | replace('{year}', year_column) -%}
        {%- set denominator = rate.denominator | join(' + ') -%}
        {%- if aggregate %}
            {%- set conditions = [] -%}
            {%- for column in [rate.numerator] + rate.denominator -%}{%- do conditions.append(column ~ ' is not null') -%}{%- endfor -%}
            {%- set present = conditions | join(' and ') -%}
        sum({{ rate.numerator }}) filter (where {{ present }})
            / nullif(sum({{ denominator }}) filter (where {{ present }}), 0)
            * {{ scale }} as {{ rate.name }}
        {%- else %}
        {{ rate.numerator }} / nullif({{ denominator }}, 0) * {{ scale }} as {{ rate.name }}
        {%- endif -%}
        {{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}
