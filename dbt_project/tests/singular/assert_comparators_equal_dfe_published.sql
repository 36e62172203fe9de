-- A failure means a region or England comparator shown to a council is not DfE's published
-- figure although DfE published one: a pack would put a number in front of a director that
-- differs from the official one. Every region, London sub-region and England value in
-- fct_workforce_indicators and fct_workforce_benchmarks is checked against DfE's latest release.
{{ config(meta={'dagster': {'ref': {'name': 'fct_workforce_benchmarks'}}}) }}
-- depends_on: {{ ref('fct_workforce_indicators') }}

with

published as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level in ('Regional', 'National') and published_value is not null
),

group_rows as (
    select
        indicators.time_period,
        indicators.geographic_level,
        indicators.area_code,
        unpivoted.measure,
        unpivoted.measure_value,
        indicators.group_value_source
    from {{ ref('fct_workforce_indicators') }} as indicators
    cross join lateral {{ unpivot_columns('indicators', workforce_measure_columns(), 'measure_value') }}
    where indicators.geographic_level in ('Regional', 'National')
),

benchmarks as (
    select * from {{ ref('fct_workforce_benchmarks') }}
),

comparators as (
    select
        time_period,
        'Regional' as geographic_level,
        region_code as area_code,
        measure,
        region_value as shown_value,
        region_value_source as shown_source,
        'fct_workforce_benchmarks.region_value for ' || old_la_code as shown_in
    from benchmarks
    union all
    select
        time_period,
        'National' as geographic_level,
        'E92000001' as area_code,
        measure,
        england_value as shown_value,
        england_value_source as shown_source,
        'fct_workforce_benchmarks.england_value for ' || old_la_code as shown_in
    from benchmarks
    union all
    select
        time_period,
        geographic_level,
        area_code,
        measure,
        measure_value as shown_value,
        group_value_source as shown_source,
        'fct_workforce_indicators' as shown_in
    from group_rows
)

select
    comparators.time_period,
    comparators.area_code,
    comparators.measure,
    comparators.shown_in,
    comparators.shown_value,
    comparators.shown_source,
    published.published_value
from comparators
inner join published
    on
        comparators.time_period = published.time_period
        and comparators.geographic_level = published.geographic_level
        and comparators.area_code = published.area_code
        and comparators.measure = published.measure
where
    comparators.shown_value is distinct from published.published_value
    or comparators.shown_source != 'dfe_published'
