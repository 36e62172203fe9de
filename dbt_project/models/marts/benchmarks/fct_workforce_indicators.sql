-- The 22 DfE workforce measures for every collection year and area: each reporting unit (LA or
-- joint return), each region and London sub-region, England, and each unit's statistical-neighbour
-- group. Group rows are ratios of summed member counts, each unit counted once. Where every member
-- of a region or of England comes from DfE's published figures, DfE's own published row is used.
with

units as (
    select * from {{ ref('int_workforce_unit_years') }}
),

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

published_groups as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level in ('Regional', 'National')
),

unit_rows as (
    select
        time_period,
        'Local authority' as geographic_level,
        reporting_unit_code as area_code,
        la_name as area_name,
        reporting_unit_code as old_la_code,
        new_la_code,
        la_name,
        region_code,
        region_name,
        source,
        return_status,
        1 as member_count,
        suppression_notes,
        {{ workforce_measure_columns() | join(',\n        ') }}
    from units
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
    select
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

-- Member counts as exact decimals (no count has more places than its inputs), so that group sums
-- do not depend on the order DuckDB adds them in and a rebuild publishes identical figures.
member_counts as (
    select
        memberships.time_period,
        memberships.geographic_level,
        memberships.area_code,
        memberships.area_name,
        memberships.region_code,
        memberships.region_name,
        units.source,
        {%- set places = workforce_count_scale() %}
        {%- for count in workforce_count_columns() %}
        cast(units.{{ count }} as decimal(18, {{ places }})) as {{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from memberships
    inner join units
        on memberships.time_period = units.time_period and memberships.member_code = units.reporting_unit_code
),

group_computed as (
    select
        time_period,
        geographic_level,
        area_code,
        area_name,
        region_code,
        region_name,
        count(*) as member_count,
        bool_and(source = 'dfe_published') as all_members_published,
        bool_and(source = 'council_return') as all_members_returned,
        {%- for count in workforce_count_columns() %}
        sum({{ count }}) as {{ count }},
        {%- endfor %}
        {{ workforce_rates(aggregate=true) }}
    from member_counts
    group by time_period, geographic_level, area_code, area_name, region_code, region_name
),

published_group_wide as (
    select
        time_period,
        geographic_level,
        area_code,
        {%- for measure in workforce_measure_columns() %}
        max(published_value) filter (where measure = '{{ measure }}') as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from published_groups
    group by time_period, geographic_level, area_code
),

group_rows as (
    select
        group_computed.time_period,
        group_computed.geographic_level,
        group_computed.area_code,
        group_computed.area_name,
        null as old_la_code,
        null as new_la_code,
        null as la_name,
        group_computed.region_code,
        group_computed.region_name,
        case
            when group_computed.all_members_published then 'dfe_published'
            when group_computed.all_members_returned then 'council_return'
            else 'mixed'
        end as source,
        null as return_status,
        group_computed.member_count,
        {%- for measure in workforce_measure_columns() %}
        case
            when published_group_wide.area_code is not null then published_group_wide.{{ measure }}
            else group_computed.{{ measure }}
        end as {{ measure }},
        {%- endfor %}
        null as suppression_notes
    from group_computed
    left join published_group_wide
        on
            group_computed.all_members_published
            and group_computed.time_period = published_group_wide.time_period
            and group_computed.geographic_level = published_group_wide.geographic_level
            and group_computed.area_code = published_group_wide.area_code
),

all_rows as (
    select * from unit_rows
    union all by name
    select * from group_rows
),

final as (
    select
        cast(time_period as integer) as time_period,
        cast(geographic_level as varchar) as geographic_level,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(old_la_code as varchar) as old_la_code,
        cast(new_la_code as varchar) as new_la_code,
        cast(la_name as varchar) as la_name,
        cast(region_code as varchar) as region_code,
        cast(region_name as varchar) as region_name,
        cast(source as varchar) as source,
        cast(return_status as varchar) as return_status,
        cast(member_count as integer) as member_count,
        cast(suppression_notes as varchar) as suppression_notes,
        {%- for measure in workforce_measure_columns() %}
        {%- if measure in workforce_whole_count_columns() %}
        cast(round({{ measure }}) as bigint) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- else %}
        cast({{ measure }} as double) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endif %}
        {%- endfor %}
    from all_rows
)

select * from final
