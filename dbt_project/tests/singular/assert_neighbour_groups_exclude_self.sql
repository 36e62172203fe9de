-- A failure means a reporting unit's statistical-neighbour group contains the unit itself, or a
-- unit sharing one of its councils (e.g. Richmond '318' in the group of '314 / 318'), so the unit
-- would be benchmarked partly against its own figures.
{{ config(meta={'dagster': {'ref': {'name': 'int_statistical_neighbour_groups'}}}) }}

with

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

unit_members as (
    select
        time_period,
        reporting_unit_code,
        unnest(member_old_la_codes) as member_old_la_code
    from {{ ref('int_reporting_units_by_year') }}
)

select
    neighbour_groups.time_period,
    neighbour_groups.reporting_unit_code,
    neighbour_groups.neighbour_unit_code,
    own.member_old_la_code as shared_council
from neighbour_groups
inner join unit_members as own
    on
        neighbour_groups.time_period = own.time_period
        and neighbour_groups.reporting_unit_code = own.reporting_unit_code
inner join unit_members as neighbour
    on
        neighbour_groups.time_period = neighbour.time_period
        and neighbour_groups.neighbour_unit_code = neighbour.reporting_unit_code
        and own.member_old_la_code = neighbour.member_old_la_code
