-- A failure means a recomputed group (region, London sub-region, England or statistical-neighbour
-- group, in int_workforce_groups) carries a rate that is not the ratio of its members' summed
-- counts: a mean of member rates, a member counted twice or missed, or a member lacking one side
-- of a rate left in the other side. Membership and the group sums are rebuilt here independently
-- of the models' macros; the formulas are the registry's. Every group is checked, including those
-- whose published figure is DfE's (the recomputed one sits beside it).
{{ config(meta={'dagster': {'ref': {'name': 'int_workforce_groups'}}}) }}

with

units as (
    select * from {{ ref('fct_workforce_indicators') }}
    where geographic_level = 'Local authority'
),

unit_geography as (
    select
        time_period,
        reporting_unit_code,
        region_code,
        sub_region_code
    from {{ ref('int_reporting_units_by_year') }}
),

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

memberships as (
    select
        time_period,
        'National' as geographic_level,
        'E92000001' as area_code,
        reporting_unit_code as member_code
    from unit_geography
    union all
    select
        time_period,
        'Regional' as geographic_level,
        region_code as area_code,
        reporting_unit_code as member_code
    from unit_geography
    where region_code is not null
    union all
    select
        time_period,
        'Regional' as geographic_level,
        sub_region_code as area_code,
        reporting_unit_code as member_code
    from unit_geography
    where sub_region_code is not null
    union all
    select distinct
        time_period,
        'Statistical neighbours' as geographic_level,
        reporting_unit_code as area_code,
        neighbour_unit_code as member_code
    from neighbour_groups
),

-- One row per member and rate: its numerator and denominator as the measure registry defines
-- them (docs/measures.md), a per-working-day rate's working days folded into its denominator.
member_rate_parts as (
    select
        memberships.time_period,
        memberships.geographic_level,
        memberships.area_code,
        member_parts.measure,
        member_parts.numerator,
        member_parts.denominator,
        member_parts.scale
    from memberships
    inner join units
        on
            memberships.time_period = units.time_period
            and memberships.member_code = units.area_code
    cross join lateral (
        values
        {%- for name, measure in var('measures').items() if measure.rate is defined %}
        {%- set rate = measure.rate %}
        {%- set per_day = rate.per_working_day | default(false) %}
        (
            '{{ name }}',
            units.{{ rate.numerator }},
            (units.{{ rate.denominator | join(' + units.') }})
            {%- if per_day %} * {{ working_days_in_year('units.time_period') }}{% endif %},
            cast({{ rate.scale }} as double precision)
        ){{ "," if not loop.last }}
        {%- endfor %}
    ) as member_parts (measure, numerator, denominator, scale)
),

expected as (
    select
        time_period,
        geographic_level,
        area_code,
        measure,
        -- A member missing either side of a rate is left out of both.
        sum(numerator) filter (where numerator is not null and denominator is not null)
        / nullif(sum(denominator) filter (where numerator is not null and denominator is not null), 0)
        * max(scale) as expected_value
    from member_rate_parts
    group by time_period, geographic_level, area_code, measure
),

actual as (
    select
        group_rows.time_period,
        group_rows.geographic_level,
        group_rows.area_code,
        unpivoted.measure,
        unpivoted.actual_value
    from {{ ref('int_workforce_groups') }} as group_rows
    cross join lateral {{ unpivot_columns('group_rows', workforce_rate_columns(), 'actual_value') }}
)

select
    actual.time_period,
    actual.geographic_level,
    actual.area_code,
    actual.measure,
    actual.actual_value,
    expected.expected_value
from actual
left join expected
    on
        actual.time_period = expected.time_period
        and actual.geographic_level = expected.geographic_level
        and actual.area_code = expected.area_code
        and actual.measure = expected.measure
where
    (actual.actual_value is null and expected.expected_value is not null)
    or (actual.actual_value is not null and expected.expected_value is null)
    or abs(actual.actual_value - expected.expected_value) > 1e-9 * greatest(1, abs(expected.expected_value))
