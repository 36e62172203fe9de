-- Every graded ILACS inspection since 2018, dated, with the council's DfE codes and region.
with

judgements as (
    select * from {{ ref('int_ilacs_judgements') }}
),

local_authorities as (
    select * from {{ ref('stg_reference__local_authorities') }}
),

regions as (
    select * from {{ ref('stg_reference__regions') }}
),

final as (
    select
        judgements.old_la_code,
        judgements.new_la_code,
        judgements.ofsted_la_name as la_name,
        regions.region_code,
        regions.region_name,
        judgements.inspection_date,
        judgements.publication_date,
        judgements.inspection_type,
        judgements.overall_effectiveness,
        judgements.impact_of_leaders,
        judgements.help_and_protection,
        judgements.children_in_care,
        judgements.care_leavers,
        row_number() over (partition by judgements.old_la_code order by judgements.publication_date desc) = 1
            as is_latest_for_la,
        judgements.source_file
    from judgements
    inner join local_authorities on judgements.new_la_code = local_authorities.new_la_code
    left join regions on local_authorities.region_code = regions.region_code
)

select * from final
