with

source as (
    select * from {{ source('raw_ofsted', 'ilacs_inspections') }}
),

renamed as (
    select
        new_la_code,
        la_name as ofsted_la_name,
        nullif(ofsted_region, '') as ofsted_region,
        cast(inspection_date as date) as inspection_date,
        cast(publication_date as date) as publication_date,
        nullif(inspection_type, '') as inspection_type,
        overall_effectiveness,
        nullif(impact_of_leaders, '') as impact_of_leaders,
        nullif(help_and_protection, '') as help_and_protection,
        nullif(children_in_care, '') as children_in_care,
        nullif(care_leavers, '') as care_leavers,
        file_kind,
        source_file
    from source
)

select * from renamed
