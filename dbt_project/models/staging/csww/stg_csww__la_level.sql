with

source as (
    select * from {{ source('raw_csww', 'la_level') }}
),

renamed as (
    select
        old_la_code,
        collection_year,
        number_of_vacancies as vacancy_fte,
        no_agency_fte as agency_cover_fte,
        no_agency_headcount as agency_cover_headcount
    from source
)

select * from renamed
