-- One row per collection year, reporting unit, listed statistical neighbour and benchmarked
-- measure: each of the ten councils DfE's model lists for the unit, named, with its value that
-- year, as DfE's LAIT shows them. A listed council counts once: where several units stand for it
-- (Cumbria as Cumberland and Westmorland and Furness from 2023) its value is the ratio of their
-- summed counts; where one unit stands for two listed councils (Kingston and Richmond's joint
-- return) each shows that unit's value. The neighbours' mean and median in fct_workforce_benchmarks
-- are taken over the values marked is_in_mean.
with

neighbour_groups as (
    select * from {{ ref('int_statistical_neighbour_groups') }}
),

indicators as (
    select * from {{ ref('fct_workforce_indicators') }}
    where geographic_level = 'Local authority'
),

statuses as (
    select * from {{ ref('int_dfe_council_statuses') }}
),

measures as (
    select * from {{ ref('dim_measures') }}
    where is_benchmarked
),

councils as (
    select * from {{ ref('dim_local_authorities') }}
),

{%- set places = workforce_count_scale() %}

standing_units as (
    select
        neighbour_groups.time_period,
        neighbour_groups.reporting_unit_code,
        neighbour_groups.sn_model,
        neighbour_groups.neighbour_rank,
        neighbour_groups.neighbour_old_la_code,
        neighbour_groups.neighbour_unit_code,
        {%- for count in workforce_count_columns() %}
        cast(indicators.{{ count }} as decimal(18, {{ places }})) as {{ count }},
        {%- endfor %}
        {%- for rate in workforce_rate_columns() %}
        indicators.{{ rate }} as {{ rate }}__own{% if not loop.last %},{% endif %}
        {%- endfor %}
    from neighbour_groups
    left join indicators
        on
            neighbour_groups.time_period = indicators.time_period
            and neighbour_groups.neighbour_unit_code = indicators.area_code
),

-- A listed council's figures: its one unit's own values, or the ratio of its units' summed counts.
areas as (
    select
        time_period,
        reporting_unit_code,
        sn_model,
        neighbour_rank,
        neighbour_old_la_code,
        array_agg(neighbour_unit_code order by neighbour_unit_code) as neighbour_unit_codes,
        count(*) as unit_count,
        {%- for name, measure in var('measures').items() if measure.rate is defined %}
        -- One value per area when it has one unit, which is the only case it is read.
        min({{ name }}__own) as {{ name }}__own,
        sum({{ measure.rate.denominator | join(' + ') }}) as {{ name }}__denominator,
        {%- endfor %}
        {{ workforce_rates(aggregate=true) }}
    from standing_units
    group by time_period, reporting_unit_code, sn_model, neighbour_rank, neighbour_old_la_code
),

area_values as (
    select
        areas.time_period,
        areas.reporting_unit_code,
        areas.sn_model,
        areas.neighbour_rank,
        areas.neighbour_old_la_code,
        areas.neighbour_unit_codes,
        measure_values.measure,
        measure_values.neighbour_value,
        measure_values.denominator
    from areas
    cross join lateral (
        values
        {%- for name in workforce_rate_columns() %}
        (
            '{{ name }}',
            case when areas.unit_count = 1 then areas.{{ name }}__own else areas.{{ name }} end,
            areas.{{ name }}__denominator
        ){{ "," if not loop.last }}
        {%- endfor %}
    ) as measure_values (measure, neighbour_value, denominator)
),

-- DfE's symbol for a listed council: its unit's, or, of several units, one that stops ranking.
area_statuses as (
    select
        area_values.time_period,
        area_values.reporting_unit_code,
        area_values.neighbour_rank,
        area_values.measure,
        coalesce(
            max(statuses.dfe_status) filter (where not statuses.is_ranked_under_status), max(statuses.dfe_status)
        ) as dfe_status,
        coalesce(bool_and(statuses.is_ranked_under_status), true) as is_ranked_under_status
    from area_values
    inner join statuses
        on
            area_values.time_period = statuses.time_period
            and statuses.reporting_unit_code = any(area_values.neighbour_unit_codes)
            and area_values.measure = statuses.measure
    group by area_values.time_period, area_values.reporting_unit_code, area_values.neighbour_rank, area_values.measure
),

final as (
    select
        cast(area_values.time_period as integer) as time_period,
        cast(area_values.reporting_unit_code as varchar) as old_la_code,
        cast(area_values.measure as varchar) as measure,
        cast(area_values.neighbour_rank as integer) as neighbour_rank,
        cast(area_values.neighbour_old_la_code as varchar) as neighbour_old_la_code,
        cast(councils.la_name as varchar) as neighbour_name,
        cast(area_values.neighbour_unit_codes as varchar[]) as neighbour_unit_codes,
        cast(area_values.sn_model as integer) as sn_model,
        cast(area_values.neighbour_value as double precision) as neighbour_value,
        cast(area_statuses.dfe_status as varchar) as dfe_status,
        coalesce(area_values.denominator < {{ var('small_base_denominator') }}, false) as is_small_base,
        (
            area_values.neighbour_value is not null
            and coalesce(area_statuses.is_ranked_under_status, true)
            and not coalesce(area_values.denominator < {{ var('small_base_denominator') }}, false)
        ) as is_in_mean
    from area_values
    inner join measures on area_values.measure = measures.measure
    left join area_statuses
        on
            area_values.time_period = area_statuses.time_period
            and area_values.reporting_unit_code = area_statuses.reporting_unit_code
            and area_values.neighbour_rank = area_statuses.neighbour_rank
            and area_values.measure = area_statuses.measure
    left join councils on area_values.neighbour_old_la_code = councils.old_la_code
)

select * from final
