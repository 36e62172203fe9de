with

source as (
    select * from {{ ref('regions') }}
),

renamed as (
    select
        region_code,
        region_name
    from source
)

select * from renamed
