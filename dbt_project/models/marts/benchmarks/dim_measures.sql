-- The measure registry (`vars: measures:` in dbt_project.yml) as a published table: one row per
-- DfE measure with what it means, how the warehouse computes it and how it is checked, so analysts
-- and the packs read labels and definitions from the published version.
with

registry as (
    {%- for name, measure in var('measures').items() %}
    {%- set band = measure.target_band | default({}) %}
    {%- set plausible = measure.plausible | default({}) %}
    {%- set change = measure.plausible_change | default({}) %}
    select
        {{ registry_literal(name) }} as measure,
        {{ loop.index }} as ees_order,
        {{ registry_literal(measure.label) }} as measure_label,
        {{ registry_literal('rate' if measure.rate is defined else 'count') }} as kind,
        {{ registry_literal(measure.unit) }} as unit,
        {{ measure.decimals }} as decimals,
        {{ registry_literal(measure.definition | trim) }} as definition,
        {{ registry_literal(workforce_measure_sql(measure)) }} as computed_as,
        {{ registry_literal(measure.rate.numerator if measure.rate is defined else none) }} as numerator,
        {{ registry_literal(measure.rate.denominator if measure.rate is defined else none) }} as denominator,
        {{ registry_literal(measure.polarity | default(none)) }} as polarity,
        {{ registry_literal(band.min | default(none)) }} as target_min,
        {{ registry_literal(band.max | default(none)) }} as target_max,
        {{ registry_literal(measure.benchmarked | default(false)) }} as is_benchmarked,
        {{ registry_literal(measure.in_pack_trends | default(false)) }} as in_pack_trends,
        {{ registry_literal(measure.valid.min | default(none)) }} as valid_min,
        {{ registry_literal(measure.valid.max | default(none)) }} as valid_max,
        {{ registry_literal(plausible.min | default(none)) }} as plausible_min,
        {{ registry_literal(plausible.max | default(none)) }} as plausible_max,
        {{ registry_literal(change.max | default(none)) }} as plausible_change_max
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

final as (
    select
        cast(measure as varchar) as measure,
        cast(ees_order as integer) as ees_order,
        cast(measure_label as varchar) as measure_label,
        cast(kind as varchar) as kind,
        cast(unit as varchar) as unit,
        cast(decimals as integer) as decimals,
        cast(definition as varchar) as definition,
        cast(computed_as as varchar) as computed_as,
        cast(numerator as varchar) as numerator,
        cast(denominator as varchar[]) as denominator,
        cast(polarity as varchar) as polarity,
        cast(target_min as double) as target_min,
        cast(target_max as double) as target_max,
        cast(is_benchmarked as boolean) as is_benchmarked,
        cast(in_pack_trends as boolean) as in_pack_trends,
        cast(valid_min as double) as valid_min,
        cast(valid_max as double) as valid_max,
        cast(plausible_min as double) as plausible_min,
        cast(plausible_max as double) as plausible_max,
        cast(plausible_change_max as double) as plausible_change_max
    from registry
)

select * from final
