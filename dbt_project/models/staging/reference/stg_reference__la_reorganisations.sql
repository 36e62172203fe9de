with

source as (
    select * from {{ ref('la_reorganisations') }}
),

renamed as (
    select
        predecessor_old_la_code,
        successor_old_la_code,
        first_year_of_successor,
        stands_in_for_successor,
        note
    from source
)

select * from renamed
