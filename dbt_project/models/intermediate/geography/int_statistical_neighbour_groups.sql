-- Each reporting unit's statistical neighbours in each collection year, as reporting units of
-- that year. A joint return takes its lead council's ten neighbours (so its group matches what
-- DfE's tools show for that council). The model in force is the latest DfE model published before the year's reference
-- date (April 2021, May 2025); earlier years use the 2021 model, the oldest available, and an LA
-- a model does not list (Cumberland and Westmorland and Furness in 2021) takes the other model.
-- Neighbours are mapped through reorganisations in both directions and through joint returns,
-- de-duplicated, and never include the unit itself.
with

units as (
    select * from {{ ref('int_reporting_units_by_year') }}
),

neighbours as (
    select * from {{ ref('stg_reference__statistical_neighbours') }}
),

reorganisations as (
    select * from {{ ref('stg_reference__la_reorganisations') }}
),

modelled_councils as (
    select distinct
        sn_model,
        old_la_code
    from neighbours
),

unit_members as (
    select
        time_period,
        reporting_unit_code,
        unnest(member_old_la_codes) as member_old_la_code
    from units
),

model_choice as (
    select
        units.time_period,
        units.reporting_unit_code,
        units.lead_old_la_code,
        modelled_councils.sn_model,
        row_number() over (
            partition by units.time_period, units.reporting_unit_code
            order by
                (
                    case
                        when units.time_period >= 2025 then modelled_councils.sn_model = 2025
                        else modelled_councils.sn_model = 2021
                    end
                ) desc,
                modelled_councils.sn_model desc
        ) as preference
    from units
    inner join modelled_councils
        on units.lead_old_la_code = modelled_councils.old_la_code
),

listed as (
    select
        model_choice.time_period,
        model_choice.reporting_unit_code,
        model_choice.sn_model,
        neighbours.neighbour_rank,
        neighbours.neighbour_old_la_code
    from model_choice
    inner join neighbours
        on
            model_choice.lead_old_la_code = neighbours.old_la_code
            and model_choice.sn_model = neighbours.sn_model
    where model_choice.preference = 1
),

-- A listed neighbour code names an LA that may not be a reporting unit in this year: a member of a
-- joint return, a predecessor that has since been replaced, or a successor that did not yet exist.
resolved as (
    select
        listed.*,
        unit_members.reporting_unit_code as neighbour_unit_code
    from listed
    inner join unit_members
        on
            listed.time_period = unit_members.time_period
            and listed.neighbour_old_la_code = unit_members.member_old_la_code
    union all
    select
        listed.*,
        unit_members.reporting_unit_code as neighbour_unit_code
    from listed
    inner join reorganisations
        on
            listed.neighbour_old_la_code = reorganisations.predecessor_old_la_code
            and listed.time_period >= reorganisations.first_year_of_successor
    inner join unit_members
        on
            listed.time_period = unit_members.time_period
            and reorganisations.successor_old_la_code = unit_members.member_old_la_code
    union all
    select
        listed.*,
        unit_members.reporting_unit_code as neighbour_unit_code
    from listed
    inner join reorganisations
        on
            listed.neighbour_old_la_code = reorganisations.successor_old_la_code
            and listed.time_period < reorganisations.first_year_of_successor
    inner join unit_members
        on
            listed.time_period = unit_members.time_period
            and reorganisations.predecessor_old_la_code = unit_members.member_old_la_code
),

final as (
    select
        time_period,
        reporting_unit_code,
        neighbour_unit_code,
        min(sn_model) as sn_model,
        min(neighbour_rank) as neighbour_rank
    from resolved
    where neighbour_unit_code != reporting_unit_code
    group by time_period, reporting_unit_code, neighbour_unit_code
)

select * from final
