-- Every graded ILACS inspection once, keyed by DfE old LA code. The history and the
-- latest-snapshot files overlap; the history row is kept because it also says the inspection
-- type. Ofsted keys LAs by ONS code, which maps to the old code through DfE's LA list
-- (terminated LAs included).
with

inspections as (
    select * from {{ ref('stg_ofsted__ilacs_inspections') }}
),

local_authorities as (
    select distinct
        new_la_code,
        old_la_code
    from {{ ref('stg_reference__local_authorities') }}
    where old_la_code is not null
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by new_la_code, inspection_date
            -- Both files describe the same inspection; the history row also says its type.
            order by (file_kind = 'history') desc, source_file desc
        ) as file_choice
    from inspections
),

final as (
    select
        local_authorities.old_la_code,
        deduplicated.new_la_code,
        deduplicated.ofsted_la_name,
        deduplicated.inspection_date,
        deduplicated.publication_date,
        coalesce(deduplicated.inspection_type, 'ILACS inspection') as inspection_type,
        deduplicated.overall_effectiveness,
        deduplicated.impact_of_leaders,
        deduplicated.help_and_protection,
        deduplicated.children_in_care,
        deduplicated.care_leavers,
        deduplicated.source_file
    from deduplicated
    inner join local_authorities on deduplicated.new_la_code = local_authorities.new_la_code
    where deduplicated.file_choice = 1
)

select * from final
