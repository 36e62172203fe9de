with

source as (
    select * from {{ ref('reconciliation_exceptions') }}
),

renamed as (
    select
        cast(time_period as integer) as time_period,
        cast(area_code as varchar) as area_code,
        measure,
        reason
    from source
)

select * from renamed
