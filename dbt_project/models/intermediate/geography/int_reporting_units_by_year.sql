-- The reporting units of each collection year: one per LA, except joint returns, which are one
-- unit for both councils ('314 / 318', '940 / 941'). A unit exists in a year when DfE published a
-- row for it or a return for it was loaded.
with

published_units as (
    select distinct
        time_period,
        area_code as reporting_unit_code,
        la_name as published_la_name,
        new_la_code as published_new_la_code,
        region_code as published_region_code
    from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level = 'Local authority'
),

returned_units as (
    select distinct
        time_period,
        reporting_unit_code
    from {{ ref('int_workforce_counts__returns') }}
),

joint_members as (
    select * from {{ ref('stg_reference__reporting_units') }}
),

local_authorities as (
    select * from {{ ref('int_local_authorities_at_reference_date') }}
),

london as (
    select * from {{ ref('stg_reference__london_sub_regions') }}
),

regions as (
    select * from {{ ref('stg_reference__regions') }}
),

units as (
    select
        coalesce(published_units.time_period, returned_units.time_period) as time_period,
        coalesce(published_units.reporting_unit_code, returned_units.reporting_unit_code) as reporting_unit_code,
        published_units.published_la_name,
        published_units.published_new_la_code,
        published_units.published_region_code
    from published_units
    full outer join returned_units
        on
            published_units.time_period = returned_units.time_period
            and published_units.reporting_unit_code = returned_units.reporting_unit_code
),

members as (
    select
        units.time_period,
        units.reporting_unit_code,
        coalesce(joint_members.member_old_la_code, units.reporting_unit_code) as member_old_la_code,
        coalesce(joint_members.member_old_la_code = joint_members.lead_old_la_code, true) as is_lead
    from units
    left join joint_members
        on
            units.reporting_unit_code = joint_members.reporting_unit_code
            and units.time_period >= joint_members.first_year
            and units.time_period <= coalesce(joint_members.last_year, 9999)
),

member_attributes as (
    select
        members.time_period,
        members.reporting_unit_code,
        array_agg(members.member_old_la_code order by members.member_old_la_code) as member_old_la_codes,
        max(members.member_old_la_code) filter (where members.is_lead) as lead_old_la_code,
        string_agg(local_authorities.la_name, ' / ' order by members.member_old_la_code) as member_names,
        string_agg(local_authorities.new_la_code, ' / ' order by members.member_old_la_code) as member_new_codes,
        max(local_authorities.region_code) filter (where members.is_lead) as lead_region_code
    from members
    left join local_authorities
        on
            members.time_period = local_authorities.time_period
            and members.member_old_la_code = local_authorities.old_la_code
    group by members.time_period, members.reporting_unit_code
),

final as (
    select
        units.time_period,
        units.reporting_unit_code,
        member_attributes.member_old_la_codes,
        member_attributes.lead_old_la_code,
        array_length(member_attributes.member_old_la_codes, 1) > 1 as is_joint_return,
        coalesce(units.published_la_name, member_attributes.member_names) as la_name,
        coalesce(units.published_new_la_code, member_attributes.member_new_codes) as new_la_code,
        regions.region_code,
        regions.region_name,
        london.sub_region_code,
        london.sub_region_name
    from units
    inner join member_attributes
        on
            units.time_period = member_attributes.time_period
            and units.reporting_unit_code = member_attributes.reporting_unit_code
    left join regions
        on
            regions.region_code = coalesce(
                member_attributes.lead_region_code,
                case when units.published_region_code like 'E13%' then 'E12000007' else units.published_region_code end
            )
    left join london on units.reporting_unit_code = london.reporting_unit_code
)

select * from final
