-- Each reporting unit's statistical-neighbour group in each collection year: the model's ten
-- listed councils (areas), each counted once, and the reporting units whose figures stand for
-- each area that year. The model in force is the latest DfE model published before the year's
-- reference date (April 2021, May 2025); earlier years use the 2021 model, the oldest available,
-- and an LA a model does not list (Cumberland and Westmorland and Furness in 2021) takes the other.
-- A listed council stands for the unit(s) reporting for its area that year: a joint return
-- ('314 / 318'), its successors after a reorganisation (Cumbria: Cumberland and Westmorland and
-- Furness from 2023), or its predecessors before one (Bournemouth, Christchurch and Poole before
-- 2019: Bournemouth and Poole, never Dorset County, which only gave it Christchurch). A joint
-- return takes its lead council's list; where that names the unit itself, the other member's
-- list tops the group up to the model's size.
with

units as (
    select * from {{ ref('int_reporting_units_by_year') }}
),

neighbours as (
    select * from {{ ref('stg_reference__statistical_neighbours') }}
),

reorganisations as (
    select * from {{ ref('stg_reference__la_reorganisations') }}
    where stands_in_for_successor
),

model_sizes as (
    select
        sn_model,
        max(neighbour_rank) as group_size
    from neighbours
    group by sn_model
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
        lead_old_la_code,
        unnest(member_old_la_codes) as member_old_la_code
    from units
),

model_candidates as (
    select
        units.time_period,
        units.reporting_unit_code,
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
        ) as model_preference
    from units
    inner join modelled_councils
        on units.lead_old_la_code = modelled_councils.old_la_code
),

model_choice as (
    select
        time_period,
        reporting_unit_code,
        sn_model
    from model_candidates
    where model_preference = 1
),

-- Every list the unit's councils have in the chosen model: the lead's, then the other members'.
listed as (
    select
        model_choice.time_period,
        model_choice.reporting_unit_code,
        model_choice.sn_model,
        unit_members.member_old_la_code as listed_by_old_la_code,
        unit_members.member_old_la_code = unit_members.lead_old_la_code as is_lead_list,
        neighbours.neighbour_rank as model_rank,
        neighbours.neighbour_old_la_code
    from model_choice
    inner join unit_members
        on
            model_choice.time_period = unit_members.time_period
            and model_choice.reporting_unit_code = unit_members.reporting_unit_code
    inner join neighbours
        on
            model_choice.sn_model = neighbours.sn_model
            and unit_members.member_old_la_code = neighbours.old_la_code
),

listed_councils as (
    select distinct
        time_period,
        neighbour_old_la_code
    from listed
),

-- The reporting units standing for a listed council in a year: its own unit, or across a
-- reorganisation its successors (after) or predecessors (before).
standing_for as (
    select
        listed_councils.time_period,
        listed_councils.neighbour_old_la_code,
        unit_members.reporting_unit_code as neighbour_unit_code
    from listed_councils
    inner join unit_members
        on
            listed_councils.time_period = unit_members.time_period
            and listed_councils.neighbour_old_la_code = unit_members.member_old_la_code
    union
    select
        listed_councils.time_period,
        listed_councils.neighbour_old_la_code,
        unit_members.reporting_unit_code as neighbour_unit_code
    from listed_councils
    inner join reorganisations
        on
            listed_councils.neighbour_old_la_code = reorganisations.predecessor_old_la_code
            and listed_councils.time_period >= reorganisations.first_year_of_successor
    inner join unit_members
        on
            listed_councils.time_period = unit_members.time_period
            and reorganisations.successor_old_la_code = unit_members.member_old_la_code
    union
    select
        listed_councils.time_period,
        listed_councils.neighbour_old_la_code,
        unit_members.reporting_unit_code as neighbour_unit_code
    from listed_councils
    inner join reorganisations
        on
            listed_councils.neighbour_old_la_code = reorganisations.successor_old_la_code
            and listed_councils.time_period < reorganisations.first_year_of_successor
    inner join unit_members
        on
            listed_councils.time_period = unit_members.time_period
            and reorganisations.predecessor_old_la_code = unit_members.member_old_la_code
),

-- A unit is never its own neighbour: a listed council standing only for the unit itself (a joint
-- return's other member) leaves the group, and its place goes to the next listed council.
listed_elsewhere as (
    select distinct
        listed.time_period,
        listed.reporting_unit_code,
        listed.neighbour_old_la_code
    from listed
    inner join standing_for
        on
            listed.time_period = standing_for.time_period
            and listed.neighbour_old_la_code = standing_for.neighbour_old_la_code
            and listed.reporting_unit_code != standing_for.neighbour_unit_code
),

listings as (
    select
        listed.*,
        row_number() over (
            partition by listed.time_period, listed.reporting_unit_code, listed.neighbour_old_la_code
            order by not listed.is_lead_list, listed.model_rank, listed.listed_by_old_la_code
        ) as listing_preference
    from listed
    inner join listed_elsewhere
        on
            listed.time_period = listed_elsewhere.time_period
            and listed.reporting_unit_code = listed_elsewhere.reporting_unit_code
            and listed.neighbour_old_la_code = listed_elsewhere.neighbour_old_la_code
),

candidate_areas as (
    select
        time_period,
        reporting_unit_code,
        sn_model,
        listed_by_old_la_code,
        is_lead_list,
        model_rank,
        neighbour_old_la_code
    from listings
    where listing_preference = 1
),

areas as (
    select
        candidate_areas.*,
        row_number() over (
            partition by candidate_areas.time_period, candidate_areas.reporting_unit_code
            order by
                not candidate_areas.is_lead_list,
                candidate_areas.model_rank,
                candidate_areas.listed_by_old_la_code
        ) as neighbour_rank
    from candidate_areas
),

final as (
    select
        areas.time_period,
        areas.reporting_unit_code,
        areas.sn_model,
        areas.neighbour_rank,
        areas.neighbour_old_la_code,
        areas.listed_by_old_la_code,
        areas.model_rank,
        standing_for.neighbour_unit_code
    from areas
    inner join model_sizes on areas.sn_model = model_sizes.sn_model
    inner join standing_for
        on
            areas.time_period = standing_for.time_period
            and areas.neighbour_old_la_code = standing_for.neighbour_old_la_code
            and areas.reporting_unit_code != standing_for.neighbour_unit_code
    where areas.neighbour_rank <= model_sizes.group_size
)

select * from final
