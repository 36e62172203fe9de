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

-- One aggregate per count of the measure registry (macros/workforce_measures.sql). FTE and days
-- are summed as exact decimals of the places they are written with: a sum of doubles depends on
-- the order rows are added in, and the published snapshot must not change when only that order does.
counted as (
    select
        old_la_code,
        collection_year,
        {{ workforce_worker_counts() }}
    from roles
    group by old_la_code, collection_year
),

final as (
    select
        counted.collection_year as time_period,
        coalesce(units.reporting_unit_code, counted.old_la_code) as reporting_unit_code,
        counted.old_la_code as return_la_code,
        {{ workforce_return_count_columns(worker_roles='counted', la_level='la_level') }}
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
