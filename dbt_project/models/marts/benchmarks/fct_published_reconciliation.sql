-- Our recomputed value of every measure against DfE's published value, wherever both exist: each
-- LA whose figures come from its return, and each region, London sub-region and England whose
-- every member's figures come from returns. Published values are rounded (1 dp; headcounts and
-- cases whole), so the comparison is at DfE's rounding. A difference beyond it is a defect unless
-- the exceptions register explains it (a DfE total known not to be the sum of its LA rows).
-- Groups mixing returns with DfE's rounded LA figures are not compared: summing rounded figures
-- drifts from DfE's totals (which sum unrounded ones) by up to 0.05 per member.
with

indicators as (
    select * from {{ ref('fct_workforce_indicators') }}
    where
        geographic_level in ('Local authority', 'Regional', 'National')
        and source = 'council_return'
),

published as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where published_value is not null
),

measures as (
    select * from {{ ref('dim_measures') }}
),

exceptions as (
    select * from {{ ref('stg_reference__reconciliation_exceptions') }}
),

indicator_measures as (
    select
        time_period,
        geographic_level,
        area_code,
        area_name,
        {{ workforce_measure_columns() | join(', ') }}
    from indicators
),

recomputed as (
    select *
    from indicator_measures
    unpivot (recomputed_value for measure in ({{ workforce_measure_columns() | join(', ') }}))
),

compared as (
    select
        recomputed.time_period,
        recomputed.geographic_level,
        recomputed.area_code,
        recomputed.area_name,
        recomputed.measure,
        measures.decimals,
        recomputed.recomputed_value,
        round(recomputed.recomputed_value, measures.decimals) as recomputed_rounded,
        published.published_value,
        round(recomputed.recomputed_value, measures.decimals) - published.published_value as difference,
        -- 0.1 at one decimal place; whole numbers must match exactly.
        case when measures.decimals = 0 then 0 else 0.1 end as tolerance,
        published.release_file
    from recomputed
    inner join published
        on
            recomputed.time_period = published.time_period
            and recomputed.geographic_level = published.geographic_level
            and recomputed.area_code = published.area_code
            and recomputed.measure = published.measure
    inner join measures on recomputed.measure = measures.measure
),

final as (
    select
        compared.*,
        abs(compared.difference) > compared.tolerance + 1e-9 as exceeds_rounding,
        exceptions.reason is not null as is_registered_exception,
        exceptions.reason as exception_reason
    from compared
    left join exceptions
        on
            compared.time_period = exceptions.time_period
            and compared.area_code = exceptions.area_code
            and compared.measure = exceptions.measure
)

select * from final
