-- DfE's LA code list: one row per ONS code, with the period it was in use.
with

source as (
    select * from {{ ref('las') }}
),

renamed as (
    select
        nullif(old_la_code, 'x') as old_la_code,
        new_la_code,
        la_name,
        {{ date_from_dmy('date_of_operation') }} as operational_from,
        {{ date_from_dmy("nullif(date_of_termination, '')") }} as operational_to,
        parent_geography_code as region_code,
        entity_description as la_type,
        status as la_status
    from source
)

select * from renamed
