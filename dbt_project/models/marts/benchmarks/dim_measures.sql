-- The measure registry (`vars: measures:` in dbt_project.yml) as a published table: one row per
-- DfE measure with what it means, how the warehouse computes it and how it is checked, so analysts
-- and the packs read labels and definitions from the published version.
with

-- Each literal is cast to its column's type in every row: PostgreSQL types a union's columns from
-- its first rows, where a NULL would otherwise make a text column.
registry as (
    {%- for name, measure in var('measures').items() %}
    {%- set band = measure.target_band | default({}) %}
    {%- set plausible = measure.plausible | default({}) %}
    {%- set change = measure.plausible_change | default({}) %}
    select
        cast({{ registry_literal(name) }} as varchar) as measure,
        cast({{ loop.index }} as integer) as ees_order,
        cast({{ registry_literal(measure.label) }} as varchar) as measure_label,
        cast({{ registry_literal('rate' if measure.rate is defined else 'count') }} as varchar) as kind,
        cast({{ registry_literal(measure.unit) }} as varchar) as unit,
        cast({{ measure.decimals }} as integer) as decimals,
        cast({{ registry_literal(measure.definition | trim) }} as varchar) as definition,
        cast({{ registry_literal(workforce_measure_sql(measure)) }} as varchar) as computed_as,
        cast({{ registry_literal(measure.rate.numerator if measure.rate is defined else none) }} as varchar)
            as numerator,
        cast({{ registry_literal(measure.rate.denominator if measure.rate is defined else none) }} as varchar[])
            as denominator,
        cast({{ registry_literal(measure.polarity | default(none)) }} as varchar) as polarity,
        cast({{ registry_literal(band.min | default(none)) }} as double precision) as target_min,
        cast({{ registry_literal(band.max | default(none)) }} as double precision) as target_max,
        cast({{ registry_literal(measure.benchmarked | default(false)) }} as boolean) as is_benchmarked,
        cast({{ registry_literal(measure.in_pack_trends | default(false)) }} as boolean) as in_pack_trends,
        cast({{ registry_literal(measure.valid.min | default(none)) }} as double precision) as valid_min,
        cast({{ registry_literal(measure.valid.max | default(none)) }} as double precision) as valid_max,
        cast({{ registry_literal(plausible.min | default(none)) }} as double precision) as plausible_min,
        cast({{ registry_literal(plausible.max | default(none)) }} as double precision) as plausible_max,
        cast({{ registry_literal(change.max | default(none)) }} as double precision) as plausible_change_max
    {{ "union all" if not loop.last }}
    {%- endfor %}
)

select * from registry
