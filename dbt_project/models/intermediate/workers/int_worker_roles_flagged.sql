-- Each worker-role with the flags every measure is built from, at the 30 September reference date
-- of its collection year (rules: docs/measures.md). Sensitive: pseudonymised worker level.
with

workers as (
    select * from {{ ref('stg_csww__workers') }}
),

dated as (
    select
        *,
        make_date(collection_year, 9, 30) as reference_date,
        make_date(collection_year - 1, 10, 1) as year_start
    from workers
),

flagged as (
    select
        old_la_code,
        collection_year,
        record_number,
        swe_pseudonym,
        is_agency,
        fte,
        fte30,
        cases30,
        working_days_lost,
        org_role,
        role_start_date,
        role_end_date,
        (role_end_date is null or role_end_date > reference_date)
        and (role_start_date is null or role_start_date <= reference_date) as holds_post_at_30_sept,
        coalesce(true = any(absent_at_30_sept), false) as is_absent_at_30_sept,
        -- Agency workers are never starters or leavers. A role ending on 30 September itself is a
        -- leaver, not in post.
        not is_agency and coalesce(role_end_date between year_start and reference_date, false) as is_leaver,
        not is_agency and coalesce(role_start_date between year_start and reference_date, false) as is_starter
    from dated
),

in_post as (
    select
        *,
        holds_post_at_30_sept and coalesce(fte30, 0) > 0 as is_in_post
    from flagged
),

final as (
    select
        *,
        is_in_post and coalesce(cases30, 0) > 0 as is_case_holder
    from in_post
)

select * from final
