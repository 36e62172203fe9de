with

source as (
    select * from {{ ref('reporting_units') }}
),

renamed as (
    select
        reporting_unit_code,
        member_old_la_code,
        lead_old_la_code,
        first_year,
        last_year,
        note
    from source
)

select * from renamed
