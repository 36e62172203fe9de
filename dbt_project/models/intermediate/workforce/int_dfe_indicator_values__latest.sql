-- DfE's published value of each measure for each year and area, from the newest release that
-- carries it (a later release may revise earlier years). Areas get one code: the old LA code
-- (or joint code such as '314 / 318') for LAs, the region code for regions, E92000001 for England.
with

values_by_release as (
    select * from {{ ref('stg_dfe__csww_indicator_values') }}
),

coded as (
    select
        *,
        case geographic_level
            when 'Local authority' then old_la_code
            when 'Regional' then region_code
            when 'National' then 'E92000001'
        end as area_code
    from values_by_release
),

ranked as (
    select
        *,
        row_number() over (
            partition by time_period, geographic_level, area_code, measure
            order by release_latest_year desc, release_file desc
        ) as release_choice
    from coded
),

final as (
    select
        time_period,
        geographic_level,
        area_code,
        region_code,
        region_name,
        new_la_code,
        la_name,
        measure,
        published_text,
        published_value,
        suppression_reason,
        release_file
    from ranked
    where release_choice = 1
)

select * from final
