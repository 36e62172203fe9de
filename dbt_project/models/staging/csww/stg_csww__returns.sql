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
        header_generated_at,
        coalesce(
            starts_with(header_software_code, '{{ var("synthetic_software_code_prefix") }}'), false
        ) as is_synthetic,
        workers as worker_records,
        query_count
    from source
)

select * from renamed
