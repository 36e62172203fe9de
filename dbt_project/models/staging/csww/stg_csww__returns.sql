with

source as (
    select * from {{ source('raw_csww', 'returns') }}
),

renamed as (
    select
        old_la_code,
        collection_year,
        source_file,
        file_sha256,
        loaded_at,
        header_software_code,
        workers as worker_records,
        query_count
    from source
)

select * from renamed
