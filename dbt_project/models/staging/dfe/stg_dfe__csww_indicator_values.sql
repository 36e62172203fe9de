-- One row per release row and measure: published text, its number, and why a number is missing.
-- The measures are the release's columns other than these, as the raw table has them now.
{%- set identifying = [
    'time_period', 'time_identifier', 'geographic_level', 'country_code', 'country_name',
    'region_code', 'region_name', 'old_la_code', 'new_la_code', 'la_name',
    'source_file', 'file_sha256', 'loaded_at',
] %}
{%- set release_columns = adapter.get_columns_in_relation(source('raw_dfe', 'csww_indicators')) if execute else [] %}
{%- set measure_columns = release_columns | map(attribute='name') | reject('in', identifying) | list %}

with

source as (
    select * from {{ source('raw_dfe', 'csww_indicators') }}
),

release_values as (
    select
        source.time_period,
        source.geographic_level,
        source.region_code,
        source.region_name,
        source.old_la_code,
        source.new_la_code,
        source.la_name,
        source.source_file,
        unpivoted.measure,
        unpivoted.published_text
    from source
    cross join lateral {{ unpivot_columns('source', measure_columns, 'published_text') }}
    -- A cell the release left empty (NULL, not '') is not a value of that measure.
    where unpivoted.published_text is not null
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
        {{ number_or_null('published_text') }} as published_value,
        coalesce(
            {{ dfe_symbol_reason('published_text') }},
            case when published_text = '' then 'not in this release' end
        ) as suppression_reason,
        source_file as release_file,
        max(cast(time_period as integer)) over (partition by source_file) as release_latest_year
    from release_values
)

select * from renamed
