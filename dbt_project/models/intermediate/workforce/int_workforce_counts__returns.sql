-- The DfE counts of each loaded return, from its worker-roles and its LA-level block.
-- Headcounts count distinct people, so a person holding two posts is one head.
with

roles as (
    select * from {{ ref('int_worker_roles_flagged') }}
),

la_level as (
    select * from {{ ref('stg_csww__la_level') }}
),

reporting_units as (
    select * from {{ ref('stg_reference__reporting_units') }}
),

-- FTE (6 dp) and days (2 dp) are summed as exact decimals: a sum of doubles depends on the order
-- rows are added in, and the published snapshot must not change when only that order does.
exact as (
    select
        * replace (
            cast(fte as decimal(18, 6)) as fte,
            cast(fte30 as decimal(18, 6)) as fte30,
            cast(working_days_lost as decimal(18, 2)) as working_days_lost
        )
    from roles
),

counted as (
    select
        old_la_code,
        collection_year,
        coalesce(sum(fte30) filter (where not is_agency and is_in_post), 0) as inpost_fte,
        count(distinct swe_pseudonym) filter (where not is_agency and is_in_post) as inpost_headcount,
        coalesce(sum(fte) filter (where is_starter), 0) as starters_fte,
        count(distinct swe_pseudonym) filter (where is_starter) as starters_headcount,
        coalesce(sum(fte) filter (where is_leaver), 0) as leavers_fte,
        count(distinct swe_pseudonym) filter (where is_leaver) as leavers_headcount,
        coalesce(sum(fte30) filter (where is_agency and is_in_post), 0) as agency_fte,
        count(distinct swe_pseudonym) filter (where is_agency and is_in_post) as agency_headcount,
        coalesce(sum(fte30) filter (where is_case_holder), 0) as case_holders_fte,
        coalesce(sum(cases30) filter (where is_case_holder), 0) as cases,
        -- No WorkingDaysLost on any in-post worker means the council did not report absence.
        sum(working_days_lost) filter (where not is_agency and is_in_post) as working_days_lost_fte
    from exact
    group by old_la_code, collection_year
),

final as (
    select
        counted.collection_year as time_period,
        coalesce(units.reporting_unit_code, counted.old_la_code) as reporting_unit_code,
        counted.old_la_code as return_la_code,
        counted.inpost_fte,
        counted.inpost_headcount,
        counted.starters_fte,
        counted.starters_headcount,
        counted.leavers_fte,
        counted.leavers_headcount,
        counted.agency_fte,
        counted.agency_headcount,
        la_level.agency_cover_fte,
        la_level.vacancy_fte,
        counted.case_holders_fte,
        counted.cases,
        counted.working_days_lost_fte
    from counted
    inner join la_level
        on counted.old_la_code = la_level.old_la_code and counted.collection_year = la_level.collection_year
    -- A joint return belongs to its unit whichever member's code it was sent under.
    left join reporting_units as units
        on
            counted.old_la_code = units.member_old_la_code
            and counted.collection_year >= units.first_year
            and counted.collection_year <= coalesce(units.last_year, 9999)
)

select * from final
