-- One row per collection year, reporting unit and benchmarked measure: the unit's value against
-- its statistical neighbours, its region and England, its rank and quartile band among all units
-- (each joint return counted once), its change on the year before, and the Ofsted judgement in
-- force on that 30 September. Neighbour values come three ways because users hold them against
-- three tools: the pooled ratio of summed counts (how DfE builds its totals), the simple mean of
-- the neighbours' rates (DfE's LAIT) and their median (DfE's CSC dashboard).
with

indicators as (
    select * from {{ ref('fct_workforce_indicators') }}
),

measures as (
    select * from {{ ref('dim_measures') }}
    where is_benchmarked
),

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

judgements as (
    select * from {{ ref('int_ilacs_judgements_in_force') }}
),

indicator_rates as (
    select
        time_period,
        geographic_level,
        area_code,
        {{ workforce_rate_columns() | join(', ') }}
    from indicators
),

indicator_values as (
    select *
    from indicator_rates
    unpivot include nulls (measure_value for measure in ({{ workforce_rate_columns() | join(', ') }}))
),

unit_values as (
    select
        indicator_values.time_period,
        indicator_values.area_code as old_la_code,
        indicator_values.measure,
        indicator_values.measure_value as la_value,
        measures.polarity,
        case measures.polarity
            when 'lower_is_better' then indicator_values.measure_value
            when 'higher_is_better' then -indicator_values.measure_value
        end as ranking_value
    from indicator_values
    inner join measures on indicator_values.measure = measures.measure
    where indicator_values.geographic_level = 'Local authority'
),

ranked as (
    select
        *,
        case when ranking_value is not null then rank() over ranking end as la_rank,
        case when ranking_value is not null then count(ranking_value) over (partition by time_period, measure) end
            as ranked_units,
        case when ranking_value is not null then percent_rank() over ranking end as rank_percentile,
        lag(la_value) over (partition by old_la_code, measure order by time_period) as previous_value,
        lag(time_period) over (partition by old_la_code, measure order by time_period) as previous_time_period
    from unit_values
    window ranking as (partition by time_period, measure, ranking_value is null order by ranking_value)
),

neighbour_statistics as (
    select
        neighbour_groups.time_period,
        neighbour_groups.reporting_unit_code as old_la_code,
        unit_values.measure,
        -- Averaged as exact decimals so the result does not depend on the order rates are added in.
        cast(avg(cast(unit_values.la_value as decimal(24, 12))) as double) as sn_mean_value,
        median(unit_values.la_value) as sn_median_value,
        count(unit_values.la_value) as sn_neighbour_count,
        min(neighbour_groups.sn_model) as sn_model
    from neighbour_groups
    inner join unit_values
        on
            neighbour_groups.time_period = unit_values.time_period
            and neighbour_groups.neighbour_unit_code = unit_values.old_la_code
    group by all
),

final as (
    select
        ranked.time_period,
        ranked.old_la_code,
        units.la_name,
        units.region_code,
        units.region_name,
        ranked.measure,
        ranked.polarity,
        units.source,
        units.return_status,
        ranked.la_value,
        neighbours.measure_value as sn_pooled_value,
        neighbour_statistics.sn_mean_value,
        neighbour_statistics.sn_median_value,
        coalesce(neighbour_statistics.sn_neighbour_count, 0) as sn_neighbour_count,
        neighbour_statistics.sn_model,
        region.measure_value as region_value,
        england.measure_value as england_value,
        cast(ranked.la_rank as integer) as la_rank,
        cast(ranked.ranked_units as integer) as ranked_units,
        case
            when ranked.rank_percentile is null then null
            when ranked.rank_percentile <= 0.25 then 'A'
            when ranked.rank_percentile <= 0.5 then 'B'
            when ranked.rank_percentile <= 0.75 then 'C'
            else 'D'
        end as quartile_band,
        case when ranked.previous_time_period = ranked.time_period - 1 then ranked.previous_value end
            as previous_year_value,
        case when ranked.previous_time_period = ranked.time_period - 1 then ranked.la_value - ranked.previous_value end
            as change_from_previous_year,
        judgements.overall_effectiveness as ofsted_overall_effectiveness,
        judgements.inspection_date as ofsted_inspection_date,
        judgements.publication_date as ofsted_publication_date,
        judgements.judged_old_la_code as ofsted_judged_old_la_code
    from ranked
    inner join indicators as units
        on
            ranked.time_period = units.time_period
            and units.geographic_level = 'Local authority'
            and ranked.old_la_code = units.area_code
    left join indicator_values as neighbours
        on
            ranked.time_period = neighbours.time_period
            and neighbours.geographic_level = 'Statistical neighbours'
            and ranked.old_la_code = neighbours.area_code
            and ranked.measure = neighbours.measure
    left join neighbour_statistics
        on
            ranked.time_period = neighbour_statistics.time_period
            and ranked.old_la_code = neighbour_statistics.old_la_code
            and ranked.measure = neighbour_statistics.measure
    left join indicator_values as region
        on
            ranked.time_period = region.time_period
            and region.geographic_level = 'Regional'
            and units.region_code = region.area_code
            and ranked.measure = region.measure
    left join indicator_values as england
        on
            ranked.time_period = england.time_period
            and england.geographic_level = 'National'
            and ranked.measure = england.measure
    left join judgements
        on ranked.time_period = judgements.time_period and ranked.old_la_code = judgements.reporting_unit_code
)

select * from final
