-- A failure means a reporting unit's statistical-neighbour group does not hold exactly as many
-- listed councils as DfE's model gives each council (ten), each once: a reorganisation or a
-- joint return made a listed council count twice (Cumbria as two neighbours) or pulled in one the
-- model does not list (Dorset County standing for Bournemouth, Christchurch and Poole), or a
-- listed council stands for no reporting unit that year.
{{ config(meta={'dagster': {'ref': {'name': 'int_statistical_neighbour_groups'}}}) }}

with

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
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
        time_period,
        reporting_unit_code,
        sn_model,
        count(distinct neighbour_rank) as listed,
        count(distinct neighbour_old_la_code) as listed_councils,
        count(*) filter (where neighbour_unit_code is null) as unresolved
    from neighbour_groups
    group by time_period, reporting_unit_code, sn_model
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
    groups.listed != model_sizes.group_size
    or groups.listed_councils != model_sizes.group_size
    or groups.unresolved > 0
