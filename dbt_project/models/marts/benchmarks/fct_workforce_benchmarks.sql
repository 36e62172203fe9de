-- One row per collection year, reporting unit and benchmarked measure: the unit's value against
-- its statistical neighbours, its region and England; its rank and quartile band among all units
-- (each joint return counted once); its change on the year before; and the Ofsted judgement in
-- force on that 30 September. Region and England are DfE's published figures wherever DfE
-- published them, with the recomputed figure and the difference beside them; neighbours are
-- always recomputed (DfE publishes none), three ways because users hold them against three
-- tools: the pooled ratio of summed counts (how DfE builds its totals), the simple mean of the
-- neighbours' values (DfE's LAIT) and their median (DfE's CSC dashboard). A value DfE published a
-- symbol for keeps it; a value under a symbol that is not ranked (`vars: dfe_symbols:`), or on a
-- small base (`vars: small_base_denominator:`), is shown but not ranked or banded.
with

indicators as (
    select * from {{ ref('fct_workforce_indicators') }}
),

recomputed_groups as (
    select * from {{ ref('int_workforce_groups') }}
    where geographic_level in ('Regional', 'National')
),

published_groups as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level in ('Regional', 'National')
),

statuses as (
    select * from {{ ref('int_dfe_council_statuses') }}
),

neighbour_values as (
    select * from {{ ref('fct_statistical_neighbour_values') }}
),

measures as (
    select * from {{ ref('dim_measures') }}
    where is_benchmarked
),

judgements as (
    select * from {{ ref('int_ilacs_judgements_in_force') }}
),

-- Each benchmarked rate of each row, with the denominator it rests on.
indicator_values as (
    select
        indicators.time_period,
        indicators.geographic_level,
        indicators.area_code,
        measure_values.measure,
        measure_values.measure_value,
        measure_values.denominator
    from indicators
    cross join lateral (
        values
        {%- for name, measure in var('measures').items() if measure.rate is defined %}
        (
            '{{ name }}',
            indicators.{{ name }},
            cast(indicators.{{ measure.rate.denominator | join(' + indicators.') }} as double precision)
        ){{ "," if not loop.last }}
        {%- endfor %}
    ) as measure_values (measure, measure_value, denominator)
),

recomputed_group_values as (
    select
        recomputed_groups.time_period,
        recomputed_groups.area_code,
        unpivoted.measure,
        unpivoted.measure_value
    from recomputed_groups
    cross join lateral {{ unpivot_columns('recomputed_groups', workforce_rate_columns(), 'measure_value') }}
),

-- The years DfE has published for each region and England.
published_years as (
    select distinct
        time_period,
        area_code
    from published_groups
),

-- A comparator: DfE's number where DfE published one; otherwise the recomputed value, labelled
-- 'provisional' when DfE has not published the year for the area, 'recomputed' when it published
-- a symbol instead of a number.
comparators as (
    select
        recomputed_group_values.time_period,
        recomputed_group_values.area_code,
        recomputed_group_values.measure,
        coalesce(published.published_value, recomputed_group_values.measure_value) as comparator_value,
        case
            when published.published_value is not null then 'dfe_published'
            when published_year.area_code is not null then 'recomputed'
            else 'provisional'
        end as comparator_source,
        case when published.published_value is null then nullif(published.published_text, '') end as dfe_status,
        recomputed_group_values.measure_value as recomputed_value,
        {{ exact_difference('recomputed_group_values.measure_value', 'published.published_value') }} as difference
    from recomputed_group_values
    left join published_groups as published
        on
            recomputed_group_values.time_period = published.time_period
            and recomputed_group_values.area_code = published.area_code
            and recomputed_group_values.measure = published.measure
    left join published_years as published_year
        on
            recomputed_group_values.time_period = published_year.time_period
            and recomputed_group_values.area_code = published_year.area_code
),

unit_values as (
    select
        indicator_values.time_period,
        indicator_values.area_code as old_la_code,
        indicator_values.measure,
        indicator_values.measure_value as la_value,
        indicator_values.denominator as la_denominator,
        coalesce(indicator_values.denominator < {{ var('small_base_denominator') }}, false) as is_small_base,
        statuses.dfe_status as la_dfe_status,
        statuses.dfe_status_reason as la_dfe_status_reason,
        measures.polarity,
        case
            when measures.polarity = 'neutral'
                then 'not ranked: neither a high nor a low value is better'
            when not coalesce(statuses.is_ranked_under_status, true)
                then 'not ranked: DfE published ' || statuses.dfe_status_reason
            when indicator_values.measure_value is null
                then 'not ranked: no value'
            when indicator_values.denominator < {{ var('small_base_denominator') }}
                then
                    'not ranked: small base (a denominator of '
                    || cast(indicator_values.denominator as decimal(18, 1))
                    || ', below {{ var("small_base_denominator") }})'
        end as not_ranked_reason
    from indicator_values
    inner join measures on indicator_values.measure = measures.measure
    left join statuses
        on
            indicator_values.time_period = statuses.time_period
            and indicator_values.area_code = statuses.reporting_unit_code
            and indicator_values.measure = statuses.measure
    where indicator_values.geographic_level = 'Local authority'
),

ranked as (
    select
        *,
        case
            when not_ranked_reason is null
                then
                    case polarity
                        when 'lower_is_better' then la_value
                        when 'higher_is_better' then -la_value
                    end
        end as ranking_value,
        lag(la_value) over (partition by old_la_code, measure order by time_period) as previous_value,
        lag(time_period) over (partition by old_la_code, measure order by time_period) as previous_time_period
    from unit_values
),

ranks as (
    select
        *,
        case when ranking_value is not null then rank() over ranking end as la_rank,
        case when ranking_value is not null then count(ranking_value) over (partition by time_period, measure) end
            as ranked_units,
        case when ranking_value is not null then percent_rank() over ranking end as rank_percentile
    from ranked
    window ranking as (partition by time_period, measure, ranking_value is null order by ranking_value)
),

neighbour_statistics as (
    select
        time_period,
        old_la_code,
        measure,
        -- Averaged as exact decimals, so the result does not depend on the order rates are added in and
        -- the median of 14.6 and 14.7 is 14.65 (which rounds to 14.7), not the float 14.649999999999999.
        cast(avg(cast(neighbour_value as decimal(24, 12))) filter (where is_in_mean) as double precision)
            as sn_mean_value,
        cast({{ exact_median('cast(neighbour_value as decimal(24, 12))', 'is_in_mean') }} as double precision)
            as sn_median_value,
        count(*) filter (where is_in_mean) as sn_neighbour_count,
        min(sn_model) as sn_model
    from neighbour_values
    group by time_period, old_la_code, measure
),

final as (
    select
        ranks.time_period,
        ranks.old_la_code,
        units.la_name,
        units.region_code,
        units.region_name,
        ranks.measure,
        ranks.polarity,
        units.source,
        units.return_status,
        units.is_synthetic,
        ranks.la_value,
        ranks.la_dfe_status,
        ranks.la_dfe_status_reason,
        ranks.la_denominator,
        ranks.is_small_base,
        neighbours.measure_value as sn_pooled_value,
        neighbour_statistics.sn_mean_value,
        neighbour_statistics.sn_median_value,
        coalesce(neighbour_statistics.sn_neighbour_count, 0) as sn_neighbour_count,
        neighbour_statistics.sn_model,
        region.comparator_value as region_value,
        region.comparator_source as region_value_source,
        region.dfe_status as region_dfe_status,
        region.recomputed_value as region_recomputed_value,
        region.difference as region_difference,
        england.comparator_value as england_value,
        england.comparator_source as england_value_source,
        england.dfe_status as england_dfe_status,
        england.recomputed_value as england_recomputed_value,
        england.difference as england_difference,
        cast(ranks.la_rank as integer) as la_rank,
        cast(ranks.ranked_units as integer) as ranked_units,
        case
            when ranks.rank_percentile is null then null
            when ranks.rank_percentile <= 0.25 then 'A'
            when ranks.rank_percentile <= 0.5 then 'B'
            when ranks.rank_percentile <= 0.75 then 'C'
            else 'D'
        end as quartile_band,
        ranks.not_ranked_reason,
        case when ranks.previous_time_period = ranks.time_period - 1 then ranks.previous_value end
            as previous_year_value,
        case
            when ranks.previous_time_period = ranks.time_period - 1
                then {{ exact_difference('ranks.la_value', 'ranks.previous_value') }}
        end as change_from_previous_year,
        judgements.overall_effectiveness as ofsted_overall_effectiveness,
        judgements.inspection_date as ofsted_inspection_date,
        judgements.publication_date as ofsted_publication_date,
        judgements.judged_old_la_code as ofsted_judged_old_la_code
    from ranks
    inner join indicators as units
        on
            ranks.time_period = units.time_period
            and units.geographic_level = 'Local authority'
            and ranks.old_la_code = units.area_code
    left join indicator_values as neighbours
        on
            ranks.time_period = neighbours.time_period
            and neighbours.geographic_level = 'Statistical neighbours'
            and ranks.old_la_code = neighbours.area_code
            and ranks.measure = neighbours.measure
    left join neighbour_statistics
        on
            ranks.time_period = neighbour_statistics.time_period
            and ranks.old_la_code = neighbour_statistics.old_la_code
            and ranks.measure = neighbour_statistics.measure
    left join comparators as region
        on
            ranks.time_period = region.time_period
            and units.region_code = region.area_code
            and ranks.measure = region.measure
    left join comparators as england
        on
            ranks.time_period = england.time_period
            and england.area_code = 'E92000001'
            and ranks.measure = england.measure
    left join judgements
        on ranks.time_period = judgements.time_period and ranks.old_la_code = judgements.reporting_unit_code
)

select * from final
