-- The ILACS overall-effectiveness judgement in force on each 30 September for each reporting
-- unit: the latest one published on or before that day. A joint return takes its lead council's
-- judgement; a council not yet inspected since it was formed takes its predecessor's.
with

units as (
    select * from {{ ref('int_reporting_units_by_year') }}
),

judgements as (
    select * from {{ ref('int_ilacs_judgements') }}
),

reorganisations as (
    select * from {{ ref('stg_reference__la_reorganisations') }}
),

candidates as (
    select
        time_period,
        reporting_unit_code,
        lead_old_la_code as judged_old_la_code,
        1 as preference
    from units
    union all
    select
        units.time_period,
        units.reporting_unit_code,
        reorganisations.predecessor_old_la_code as judged_old_la_code,
        2 as preference
    from units
    inner join reorganisations on units.lead_old_la_code = reorganisations.successor_old_la_code
),

ranked as (
    select
        candidates.time_period,
        candidates.reporting_unit_code,
        judgements.old_la_code as judged_old_la_code,
        judgements.ofsted_la_name as judged_la_name,
        judgements.overall_effectiveness,
        judgements.inspection_date,
        judgements.publication_date,
        judgements.inspection_type,
        row_number() over (
            partition by candidates.time_period, candidates.reporting_unit_code
            order by candidates.preference asc, judgements.publication_date desc
        ) as judgement_choice
    from candidates
    inner join judgements
        on
            candidates.judged_old_la_code = judgements.old_la_code
            and judgements.publication_date <= make_date(candidates.time_period, 9, 30)
),

in_force as (
    select
        time_period,
        reporting_unit_code,
        judged_old_la_code,
        judged_la_name,
        overall_effectiveness,
        inspection_date,
        publication_date,
        inspection_type
    from ranked
    where judgement_choice = 1
)

select * from in_force
