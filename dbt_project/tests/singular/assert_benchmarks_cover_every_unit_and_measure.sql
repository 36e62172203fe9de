-- A failure means fct_workforce_benchmarks does not hold exactly one row for every reporting
-- unit-year in fct_workforce_indicators and every benchmarked measure: a unit or measure silently
-- dropped (for example by an inner join on a comparator), or a row duplicated or left over.
{{ config(meta={'dagster': {'ref': {'name': 'fct_workforce_benchmarks'}}}) }}

with

expected as (
    select
        units.time_period,
        units.area_code as old_la_code,
        measures.measure
    from {{ ref('fct_workforce_indicators') }} as units
    cross join {{ ref('dim_measures') }} as measures
    where units.geographic_level = 'Local authority' and measures.is_benchmarked
),

actual as (
    select
        time_period,
        old_la_code,
        measure,
        count(*) as row_count
    from {{ ref('fct_workforce_benchmarks') }}
    group by time_period, old_la_code, measure
)

select
    coalesce(expected.time_period, actual.time_period) as time_period,
    coalesce(expected.old_la_code, actual.old_la_code) as old_la_code,
    coalesce(expected.measure, actual.measure) as measure,
    case
        when actual.measure is null then 'missing from benchmarks'
        when expected.measure is null then 'not a benchmarked unit and measure'
        else actual.row_count || ' rows'
    end as problem
from expected
full outer join actual
    on
        expected.time_period = actual.time_period
        and expected.old_la_code = actual.old_la_code
        and expected.measure = actual.measure
where actual.measure is null or expected.measure is null or actual.row_count != 1
