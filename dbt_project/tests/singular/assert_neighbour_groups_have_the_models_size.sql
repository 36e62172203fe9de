-- A failure means a reporting unit's statistical-neighbour group does not hold exactly as many
-- listed councils as DfE's model gives each council (ten), each once: a reorganisation or a
-- joint return made a listed council count twice (Cumbria as two neighbours) or pulled in one the
-- model does not list (Dorset County standing for Bournemouth, Christchurch and Poole), or a
-- listed council stands for no reporting unit in a year DfE has published. Before DfE publishes a
-- year, only the councils whose returns are loaded report for it, so a group holds those of its
-- listed councils that do (at most the model's size, each once): the others' figures are missing
-- from the group, as they are from every other comparison.
{{ config(meta={'dagster': {'ref': {'name': 'int_statistical_neighbour_groups'}}}) }}

with

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

published_years as (
    select distinct time_period
    from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level = 'Local authority'
),

model_sizes as (
    select
        sn_model,
        max(neighbour_rank) as group_size
    from {{ ref('stg_reference__statistical_neighbours') }}
    group by sn_model
),

groups as (
    select
        neighbour_groups.time_period,
        neighbour_groups.reporting_unit_code,
        neighbour_groups.sn_model,
        count(distinct neighbour_groups.neighbour_rank) as listed,
        count(distinct neighbour_groups.neighbour_old_la_code) as listed_councils,
        count(*) filter (where neighbour_groups.neighbour_unit_code is null) as unresolved,
        neighbour_groups.time_period in (select published_years.time_period from published_years) as is_published
    from neighbour_groups
    group by neighbour_groups.time_period, neighbour_groups.reporting_unit_code, neighbour_groups.sn_model
)

select
    groups.time_period,
    groups.reporting_unit_code,
    groups.sn_model,
    groups.listed,
    groups.listed_councils,
    groups.unresolved,
    model_sizes.group_size
from groups
inner join model_sizes on groups.sn_model = model_sizes.sn_model
where
    groups.listed_councils != groups.listed
    or groups.unresolved > 0
    or (groups.is_published and groups.listed != model_sizes.group_size)
    or groups.listed > model_sizes.group_size
