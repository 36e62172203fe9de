with

source as (
    select * from {{ ref('measures') }}
),

renamed as (
    select
        measure,
        label as measure_label,
        kind as measure_kind,
        unit,
        decimals,
        nullif(polarity, '') as polarity,
        in_benchmarks,
        description as measure_description
    from source
)

select * from renamed
