with

source as (
    select * from {{ source('raw_csww', 'load_history') }}
),

renamed as (
    select
        old_la_code,
        collection_year,
        source_file,
        file_sha256,
        status as load_status,
        error_count,
        message as load_message,
        report_path,
        loaded_at
    from source
)

select * from renamed
