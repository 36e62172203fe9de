-- One row per local authority DfE has coded (old LA code), plus one per joint reporting unit, so
-- every area code in the facts has a row here. Carries ONS codes over time, region, status,
-- predecessors and successors through reorganisations, joint returns and neighbour lists.
with

-- Councils with children's services: a 3-digit code and an English region. DfE's list also
-- carries joint codes ('314 / 318', built below from the reporting units) and non-LA codes.
local_authorities as (
    select * from {{ ref('stg_reference__local_authorities') }}
    where old_la_code ~ '^[0-9]{3}$' and region_code like 'E12%'
),

regions as (
    select * from {{ ref('stg_reference__regions') }}
),

joint_units as (
    select * from {{ ref('stg_reference__reporting_units') }}
),

reorganisations as (
    select * from {{ ref('stg_reference__la_reorganisations') }}
),

london as (
    select * from {{ ref('stg_reference__london_sub_regions') }}
),

neighbours as (
    select * from {{ ref('stg_reference__statistical_neighbours') }}
),

unit_years as (
    select * from {{ ref('int_workforce_unit_years') }}
),

latest_code as (
    select
        old_la_code,
        la_name,
        new_la_code,
        region_code,
        la_type,
        operational_to is null as is_live
    from (
        select
            *,
            row_number() over (partition by old_la_code order by operational_from desc) as code_recency
        from local_authorities
    ) as dated_codes
    where code_recency = 1
),

code_history as (
    select
        old_la_code,
        min(operational_from) as operational_from,
        case when bool_and(operational_to is not null) then max(operational_to) end as operational_to,
        array_agg(distinct new_la_code order by new_la_code) as all_new_la_codes
    from local_authorities
    group by old_la_code
),

neighbour_lists as (
    select
        old_la_code,
        array_agg(neighbour_old_la_code order by neighbour_rank) filter (where sn_model = 2021)
            as statistical_neighbours_2021,
        array_agg(neighbour_old_la_code order by neighbour_rank) filter (where sn_model = 2025)
            as statistical_neighbours_2025
    from neighbours
    group by old_la_code
),

data_years as (
    select
        reporting_unit_code,
        min(time_period) as first_year_with_data,
        max(time_period) as last_year_with_data
    from unit_years
    group by reporting_unit_code
),

councils as (
    select
        latest_code.old_la_code,
        latest_code.la_name,
        latest_code.new_la_code,
        {{ list_without('code_history.all_new_la_codes', 'latest_code.new_la_code') }} as previous_new_la_codes,
        latest_code.region_code,
        latest_code.la_type,
        case when latest_code.is_live then 'live' else 'terminated' end as la_status,
        code_history.operational_from,
        code_history.operational_to,
        false as is_joint_reporting_unit,
        array[latest_code.old_la_code] as member_old_la_codes,
        (
            select array_agg(distinct joint_units.reporting_unit_code order by joint_units.reporting_unit_code)
            from joint_units
            where joint_units.member_old_la_code = latest_code.old_la_code
        ) as joint_reporting_unit_codes,
        (
            select
                array_agg(
                    distinct predecessors.predecessor_old_la_code order by predecessors.predecessor_old_la_code
                )
            from reorganisations as predecessors
            where predecessors.successor_old_la_code = latest_code.old_la_code
        ) as predecessor_old_la_codes,
        (
            select array_agg(distinct successors.successor_old_la_code order by successors.successor_old_la_code)
            from reorganisations as successors
            where successors.predecessor_old_la_code = latest_code.old_la_code
        ) as successor_old_la_codes
    from latest_code
    inner join code_history on latest_code.old_la_code = code_history.old_la_code
),

joint_rows as (
    select
        joint_units.reporting_unit_code as old_la_code,
        string_agg(councils.la_name, ' / ' order by councils.old_la_code) as la_name,
        string_agg(councils.new_la_code, ' / ' order by councils.old_la_code) as new_la_code,
        cast(array[] as varchar[]) as previous_new_la_codes,
        max(councils.region_code) as region_code,
        'Joint reporting unit' as la_type,
        'joint reporting unit' as la_status,
        max(councils.operational_from) as operational_from,
        cast(null as date) as operational_to,
        true as is_joint_reporting_unit,
        array_agg(councils.old_la_code order by councils.old_la_code) as member_old_la_codes,
        cast(array[] as varchar[]) as joint_reporting_unit_codes,
        cast(array[] as varchar[]) as predecessor_old_la_codes,
        cast(array[] as varchar[]) as successor_old_la_codes
    from joint_units
    inner join councils on joint_units.member_old_la_code = councils.old_la_code
    group by joint_units.reporting_unit_code
),

all_areas as (
    -- The two have the same columns in the same order.
    select * from councils
    union all
    select * from joint_rows
),

final as (
    select
        all_areas.old_la_code,
        all_areas.la_name,
        all_areas.new_la_code,
        coalesce(all_areas.previous_new_la_codes, cast(array[] as varchar[])) as previous_new_la_codes,
        all_areas.la_type,
        all_areas.la_status,
        all_areas.operational_from,
        all_areas.operational_to,
        all_areas.region_code,
        regions.region_name,
        coalesce(own_london.sub_region_code, joint_london.sub_region_code) as sub_region_code,
        coalesce(own_london.sub_region_name, joint_london.sub_region_name) as sub_region_name,
        all_areas.is_joint_reporting_unit,
        cast(all_areas.member_old_la_codes as varchar[]) as member_old_la_codes,
        coalesce(all_areas.joint_reporting_unit_codes, cast(array[] as varchar[])) as joint_reporting_unit_codes,
        coalesce(all_areas.predecessor_old_la_codes, cast(array[] as varchar[])) as predecessor_old_la_codes,
        coalesce(all_areas.successor_old_la_codes, cast(array[] as varchar[])) as successor_old_la_codes,
        coalesce(neighbour_lists.statistical_neighbours_2021, cast(array[] as varchar[]))
            as statistical_neighbours_2021,
        coalesce(neighbour_lists.statistical_neighbours_2025, cast(array[] as varchar[]))
            as statistical_neighbours_2025,
        data_years.first_year_with_data,
        data_years.last_year_with_data
    from all_areas
    left join regions on all_areas.region_code = regions.region_code
    left join london as own_london on all_areas.old_la_code = own_london.reporting_unit_code
    left join joint_units on all_areas.old_la_code = joint_units.member_old_la_code
    left join london as joint_london on joint_units.reporting_unit_code = joint_london.reporting_unit_code
    left join neighbour_lists on all_areas.old_la_code = neighbour_lists.old_la_code
    left join data_years on all_areas.old_la_code = data_years.reporting_unit_code
)

select * from final
