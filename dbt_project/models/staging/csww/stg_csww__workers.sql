-- Worker-roles from council returns, renamed and typed. Sensitive: stays in the `sensitive` schema.
with

source as (
    select * from {{ source('raw_csww', 'workers') }}
),

renamed as (
    select
        old_la_code,
        collection_year,
        record_number,
        swe_pseudonym,
        agency_worker as is_agency,
        fte,
        fte30,
        birth_month,
        gender_current,
        sex,
        ethnicity,
        qual_level,
        org_role,
        role_start_date,
        start_origin,
        role_end_date,
        leaver_destination,
        reason_leave,
        cases30,
        working_days_lost,
        absent_at_30_sept,
        reason_absence,
        source_file,
        file_sha256
    from source
)

select * from renamed
