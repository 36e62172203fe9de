-- A failure means a reporting unit's figures for a year are missing, duplicated or of unknown
-- origin in fct_workforce_indicators: a unit-year with no row or several rows, a source other than
-- 'council_return' or 'dfe_published', or a loaded council return whose figures are not the ones
-- shown (the unit-year says 'dfe_published' although the council's return is in the warehouse).
{{ config(meta={'dagster': {'ref': {'name': 'fct_workforce_indicators'}}}) }}

with

unit_years as (
    select
        time_period,
        reporting_unit_code
    from {{ ref('int_reporting_units_by_year') }}
),

la_rows as (
    select * from {{ ref('fct_workforce_indicators') }}
    where geographic_level = 'Local authority'
),

returned as (
    select
        time_period,
        reporting_unit_code
    from {{ ref('int_workforce_counts__returns') }}
),

rows_per_unit_year as (
    select
        unit_years.time_period,
        unit_years.reporting_unit_code,
        count(la_rows.area_code) as row_count,
        string_agg(la_rows.source, ', ') as sources
    from unit_years
    left join la_rows
        on
            unit_years.time_period = la_rows.time_period
            and unit_years.reporting_unit_code = la_rows.area_code
    group by unit_years.time_period, unit_years.reporting_unit_code
)

select
    time_period,
    reporting_unit_code,
    row_count || ' rows with sources: ' || coalesce(sources, 'none') as problem
from rows_per_unit_year
where row_count != 1 or sources not in ('council_return', 'dfe_published')

union all

select
    returned.time_period,
    returned.reporting_unit_code,
    'return loaded but figures shown are ' || coalesce(la_rows.source, 'missing') as problem
from returned
left join la_rows
    on
        returned.time_period = la_rows.time_period
        and returned.reporting_unit_code = la_rows.area_code
where la_rows.source is distinct from 'council_return'
