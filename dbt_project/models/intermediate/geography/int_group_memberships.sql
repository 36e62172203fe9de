-- The reporting units making up each group area in each collection year: England, each region,
-- Inner and Outer London, and each unit's statistical-neighbour group (every unit standing for a
-- listed neighbour, once however many listed councils it stands for).
with

units as (
    select * from {{ ref('int_reporting_units_by_year') }}
),

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

memberships as (
    select
        time_period,
        'National' as geographic_level,
        'E92000001' as area_code,
        'England' as area_name,
        null as region_code,
        null as region_name,
        reporting_unit_code as member_code
    from units
    union all
    select
        time_period,
        'Regional' as geographic_level,
        region_code as area_code,
        region_name as area_name,
        region_code,
        region_name,
        reporting_unit_code as member_code
    from units
    where region_code is not null
    union all
    select
        time_period,
        'Regional' as geographic_level,
        sub_region_code as area_code,
        sub_region_name as area_name,
        sub_region_code as region_code,
        sub_region_name as region_name,
        reporting_unit_code as member_code
    from units
    where sub_region_code is not null
    union all
    select distinct
        neighbour_groups.time_period,
        'Statistical neighbours' as geographic_level,
        neighbour_groups.reporting_unit_code as area_code,
        'Statistical neighbours of ' || units.la_name as area_name,
        null as region_code,
        null as region_name,
        neighbour_groups.neighbour_unit_code as member_code
    from neighbour_groups
    inner join units
        on
            neighbour_groups.time_period = units.time_period
            and neighbour_groups.reporting_unit_code = units.reporting_unit_code
),

final as (
    select
        cast(time_period as integer) as time_period,
        cast(geographic_level as varchar) as geographic_level,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(region_code as varchar) as region_code,
        cast(region_name as varchar) as region_name,
        cast(member_code as varchar) as member_code
    from memberships
)

select * from final
