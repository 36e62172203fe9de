-- One row per release row and measure: published text, its number, and why a number is missing.
with

source as (
    select * from {{ source('raw_dfe', 'csww_indicators') }}
),

unpivoted as (
    unpivot source
    on columns(* exclude (
        time_period, time_identifier, geographic_level, country_code, country_name,
        region_code, region_name, old_la_code, new_la_code, la_name,
        source_file, file_sha256, loaded_at
    ))
    into name measure value published_text
),

renamed as (
    select
        cast(time_period as integer) as time_period,
        geographic_level,
        nullif(region_code, '') as region_code,
        nullif(region_name, '') as region_name,
        nullif(old_la_code, '') as old_la_code,
        nullif(new_la_code, '') as new_la_code,
        nullif(la_name, '') as la_name,
        measure,
        published_text,
        try_cast(published_text as double) as published_value,
        coalesce(
            {{ dfe_symbol_reason('published_text') }},
            case when published_text = '' then 'not in this release' end
        ) as suppression_reason,
        source_file as release_file,
        max(cast(time_period as integer)) over (partition by source_file) as release_latest_year
    from unpivoted
)

select * from renamed
