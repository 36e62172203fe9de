-- Our recomputed value of every measure against DfE's published value, wherever both exist: each
-- council whose figures come from its return, and every region, London sub-region and England,
-- whatever its members' sources. The comparison is DfE's own rounding done exactly: the value as
-- an exact fraction of whole numbers, rounded half up to the published decimals (dim_measures),
-- must equal the published figure, i.e. lie within half a rounding unit of it. A group built
-- partly from DfE's rounded council figures can drift from DfE's total (which sums unrounded
-- ones): the difference is explained when DfE's figure lies within the range those members'
-- rounding allows. A group with members DfE published a symbol for, and no return replaced, is
-- short of their figures, which DfE's total holds: that difference is said, not judged. Anything
-- else is a defect unless the exceptions register explains it.
with

units as (
    select * from {{ ref('int_workforce_unit_years') }}
    where source = 'council_return'
),

groups as (
    select * from {{ ref('int_workforce_groups') }}
    where geographic_level in ('Regional', 'National')
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

fractions as (
    select
        units.time_period,
        'Local authority' as geographic_level,
        units.reporting_unit_code as area_code,
        units.la_name as area_name,
        units.source as members_source,
        measure_fractions.*
    from units
    cross join lateral {{ workforce_measure_fractions('units', rounded_members=false) }}
    union all
    select
        groups.time_period,
        groups.geographic_level,
        groups.area_code,
        groups.area_name,
        groups.source as members_source,
        measure_fractions.*
    from groups
    cross join lateral {{ workforce_measure_fractions('groups', rounded_members=true) }}
),

steps as (
    select
        fractions.*,
        measures.decimals,
        published.published_value,
        published.release_file,
        cast(round(published.published_value * power(10, measures.decimals)) as {{ exact_integer() }})
            as published_steps,
        {{ half_up_steps(['fractions.numerator', 'fractions.denominator'], 'measures.decimals') }} as recomputed_steps,
        -- The published figure's possible range when some members are DfE's rounded figures.
        {{ half_up_steps(
            ['greatest(fractions.numerator - fractions.numerator_slack, 0)',
             'fractions.denominator + fractions.denominator_slack'],
            'measures.decimals'
        ) }} as lowest_steps,
        {{ half_up_steps(
            ['fractions.numerator + fractions.numerator_slack',
             'fractions.denominator - fractions.denominator_slack'],
            'measures.decimals'
        ) }} as highest_steps
    from fractions
    inner join published
        on
            fractions.time_period = published.time_period
            and fractions.geographic_level = published.geographic_level
            and fractions.area_code = published.area_code
            and fractions.measure = published.measure
    inner join measures on fractions.measure = measures.measure
),

compared as (
    select
        steps.*,
        coalesce(steps.recomputed_steps != steps.published_steps, true) as exceeds_rounding,
        (
            steps.rounded_members > 0
            and steps.denominator > steps.denominator_slack
            and steps.published_steps between steps.lowest_steps and steps.highest_steps
        ) as within_member_rounding,
        exceptions.reason as exception_reason
    from steps
    left join exceptions
        on
            steps.time_period = exceptions.time_period
            and steps.area_code = exceptions.area_code
            and steps.measure = exceptions.measure
),

final as (
    select
        cast(time_period as integer) as time_period,
        cast(geographic_level as varchar) as geographic_level,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(measure as varchar) as measure,
        cast(decimals as integer) as decimals,
        cast(members_source as varchar) as members_source,
        cast(rounded_members as integer) as dfe_rounded_members,
        cast(members_without_figures as integer) as members_without_figures,
        cast(recomputed_value as double precision) as recomputed_value,
        cast(cast(recomputed_steps as decimal(38, 0)) / power(10, decimals) as double precision) as recomputed_rounded,
        cast(published_value as double precision) as published_value,
        {{ exact_difference('recomputed_value', 'published_value') }} as difference,
        cast(0.5 / power(10, decimals) as double precision) as tolerance,
        cast(release_file as varchar) as release_file,
        exceeds_rounding,
        exception_reason is not null as is_registered_exception,
        cast(exception_reason as varchar) as exception_reason,
        case
            when not exceeds_rounding then 'matches'
            when within_member_rounding then 'within_members_rounding'
            when exception_reason is not null then 'registered_exception'
            when members_without_figures > 0 then 'members_without_figures'
            else 'unexplained'
        end as reconciliation_status
    from compared
)

select * from final
