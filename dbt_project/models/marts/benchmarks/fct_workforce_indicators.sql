-- The 22 DfE workforce measures for every collection year and area: each reporting unit (LA or
-- joint return), each region and London sub-region, England, and each unit's statistical-neighbour
-- group. A region's or England's figure is DfE's published one wherever DfE published it; before
-- DfE publishes a year it is recomputed from the members (ratios of summed counts, each unit
-- counted once) and labelled provisional. Neighbour groups are always recomputed: DfE publishes
-- none. The recomputed group figures beside DfE's are in fct_published_reconciliation.
with

units as (
    select * from {{ ref('int_workforce_unit_years') }}
),

groups as (
    select * from {{ ref('int_workforce_groups') }}
),

published_groups as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level in ('Regional', 'National')
),

unit_rows as (
    select
        time_period,
        'Local authority' as geographic_level,
        reporting_unit_code as area_code,
        la_name as area_name,
        reporting_unit_code as old_la_code,
        new_la_code,
        la_name,
        region_code,
        region_name,
        source,
        return_status,
        return_source_file,
        return_file_sha256,
        return_loaded_at,
        return_generated_at,
        return_note,
        quarantined_file_sha256,
        is_synthetic,
        cast(null as varchar) as group_value_source,
        1 as member_count,
        suppression_notes,
        {{ workforce_measure_columns() | join(',\n        ') }}
    from units
),

published_group_wide as (
    select
        time_period,
        geographic_level,
        area_code,
        {%- for measure in workforce_measure_columns() %}
        max(published_value) filter (where measure = '{{ measure }}') as {{ measure }},
        {%- endfor %}
        string_agg(
            measure || ' ' || suppression_reason, '; ' order by measure
        ) filter (where suppression_reason is not null) as suppression_notes
    from published_groups
    group by time_period, geographic_level, area_code
),

group_rows as (
    select
        groups.time_period,
        groups.geographic_level,
        groups.area_code,
        groups.area_name,
        cast(null as varchar) as old_la_code,
        cast(null as varchar) as new_la_code,
        cast(null as varchar) as la_name,
        groups.region_code,
        groups.region_name,
        groups.source,
        cast(null as varchar) as return_status,
        cast(null as varchar) as return_source_file,
        cast(null as varchar) as return_file_sha256,
        cast(null as timestamptz) as return_loaded_at,
        cast(null as varchar) as return_generated_at,
        cast(null as varchar) as return_note,
        cast(null as varchar) as quarantined_file_sha256,
        groups.is_synthetic and published.area_code is null as is_synthetic,
        case
            when groups.geographic_level = 'Statistical neighbours' then 'recomputed'
            when published.area_code is not null then 'dfe_published'
            else 'provisional'
        end as group_value_source,
        groups.member_count,
        published.suppression_notes,
        {%- for measure in workforce_measure_columns() %}
        coalesce(published.{{ measure }}, groups.{{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from groups
    left join published_group_wide as published
        on
            groups.time_period = published.time_period
            and groups.geographic_level = published.geographic_level
            and groups.area_code = published.area_code
),

all_rows as (
    -- The two have the same columns in the same order.
    select * from unit_rows
    union all
    select * from group_rows
),

final as (
    select
        cast(time_period as integer) as time_period,
        cast(geographic_level as varchar) as geographic_level,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(old_la_code as varchar) as old_la_code,
        cast(new_la_code as varchar) as new_la_code,
        cast(la_name as varchar) as la_name,
        cast(region_code as varchar) as region_code,
        cast(region_name as varchar) as region_name,
        cast(source as varchar) as source,
        cast(return_status as varchar) as return_status,
        cast(return_source_file as varchar) as return_source_file,
        cast(return_file_sha256 as varchar) as return_file_sha256,
        cast(return_loaded_at as timestamptz) as return_loaded_at,
        cast(return_generated_at as varchar) as return_generated_at,
        cast(return_note as varchar) as return_note,
        cast(quarantined_file_sha256 as varchar) as quarantined_file_sha256,
        cast(is_synthetic as boolean) as is_synthetic,
        cast(group_value_source as varchar) as group_value_source,
        cast(member_count as integer) as member_count,
        cast(suppression_notes as varchar) as suppression_notes,
        {%- for measure in workforce_measure_columns() %}
        {%- if measure in workforce_whole_count_columns() %}
        cast(round({{ measure }}) as bigint) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- else %}
        cast({{ measure }} as double precision) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endif %}
        {%- endfor %}
    from all_rows
)

select * from final
