with

source as (
    select * from {{ ref('london_sub_regions') }}
),

renamed as (
    select
        old_la_code as reporting_unit_code,
        sub_region_code,
        sub_region_name
    from source
)

select * from renamed
