-- A failure means a council's workforce would be counted twice in regional, national or neighbour
-- totals: a council belongs to more than one reporting unit in the same year (typically a member
-- of a joint return, such as Richmond '318' in '314 / 318', also appearing on its own), or
-- England's member count differs from the number of reporting units that year.
{{ config(meta={'dagster': {'ref': {'name': 'fct_workforce_indicators'}}}) }}

with

unit_members as (
    select
        time_period,
        reporting_unit_code,
        unnest(member_old_la_codes) as member_old_la_code
    from {{ ref('int_reporting_units_by_year') }}
),

indicators as (
    select * from {{ ref('fct_workforce_indicators') }}
),

councils_in_several_units as (
    select
        time_period,
        member_old_la_code as area_code,
        'council is in ' || count(*) || ' reporting units: '
        || string_agg(reporting_unit_code, ', ' order by reporting_unit_code) as problem
    from unit_members
    group by time_period, member_old_la_code
    having count(*) > 1
),

units_per_year as (
    select
        time_period,
        count(*) as unit_count
    from indicators
    where geographic_level = 'Local authority'
    group by time_period
),

england_miscounted as (
    select
        england.time_period,
        england.area_code,
        'England counts ' || england.member_count || ' units, the year has ' || units_per_year.unit_count
            as problem
    from indicators as england
    inner join units_per_year on england.time_period = units_per_year.time_period
    where
        england.geographic_level = 'National'
        and england.member_count != units_per_year.unit_count
)

select * from councils_in_several_units
union all
select * from england_miscounted
