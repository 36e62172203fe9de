-- Each LA's ONS code, name and region on 30 September of every collection year it existed in.
-- ONS codes change while the DfE old code stays (Barnsley, Sheffield, North Yorkshire, Somerset).
with

local_authorities as (
    select * from {{ ref('stg_reference__local_authorities') }}
    where old_la_code is not null
),

years as (
    select distinct time_period from {{ ref('int_dfe_indicator_values__latest') }}
    union
    select distinct collection_year as time_period from {{ ref('stg_csww__returns') }}
),

final as (
    select
        years.time_period,
        local_authorities.old_la_code,
        local_authorities.new_la_code,
        local_authorities.la_name,
        local_authorities.region_code
    from years
    inner join local_authorities
        on
            local_authorities.operational_from <= make_date(years.time_period, 9, 30)
            and coalesce(local_authorities.operational_to, date '9999-12-31') >= make_date(years.time_period, 9, 30)
)

select * from final
