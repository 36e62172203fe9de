-- DfE statistical neighbours, one row per LA and neighbour. Band spelling differs between models
-- ('Very Close' in 2021, 'Very close' in 2025): normalised to lower case.
with

source as (
    select * from {{ ref('statistical_neighbours') }}
),

renamed as (
    select
        cast(model as integer) as sn_model,
        old_la_code,
        neighbour_rank,
        neighbour_old_la_code,
        nullif(lower(trim(closeness_band)), '') as closeness_band
    from source
)

select * from renamed
