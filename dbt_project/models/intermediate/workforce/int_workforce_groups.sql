-- Every group area (England, regions, Inner and Outer London, each unit's statistical-neighbour
-- group) in every collection year, recomputed from its members' figures: counts are sums, rates
-- ratios of those sums (never means of member rates), each unit counted once. Members' counts are
-- summed as exact decimals, so a group's sums do not depend on the order DuckDB adds them in and a
-- rebuild publishes identical figures. This is the recomputed value only: where DfE published the
-- group, fct_workforce_indicators shows DfE's figure and fct_published_reconciliation compares.
with

units as (
    select * from {{ ref('int_workforce_unit_years') }}
),

memberships as (
    select * from {{ ref('int_group_memberships') }}
),

{%- set places = workforce_count_scale() %}

member_counts as (
    select
        memberships.time_period,
        memberships.geographic_level,
        memberships.area_code,
        memberships.area_name,
        memberships.region_code,
        memberships.region_name,
        units.source,
        units.is_synthetic,
        {%- for count in workforce_count_columns() %}
        cast(units.{{ count }} as decimal(18, {{ places }})) as {{ count }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from memberships
    inner join units
        on memberships.time_period = units.time_period and memberships.member_code = units.reporting_unit_code
),

summed as (
    select
        time_period,
        geographic_level,
        area_code,
        area_name,
        region_code,
        region_name,
        count(*) as member_count,
        case
            when bool_and(source = 'dfe_published') then 'dfe_published'
            when bool_and(source = 'council_return') then 'council_return'
            else 'mixed'
        end as source,
        bool_or(is_synthetic) as is_synthetic,
        {%- for count in workforce_count_columns() %}
        sum({{ count }}) as {{ count }},
        count({{ count }}) filter (where source = 'dfe_published') as {{ count }}__rounded_members,
        count(*) - count({{ count }}) as {{ count }}__members_without_figures,
        {%- endfor %}
        {{ workforce_group_rate_parts() }}
    from member_counts
    group by time_period, geographic_level, area_code, area_name, region_code, region_name
),

-- Each rate is the ratio of its parts; `<measure>__numerator`, `__denominator`,
-- `__rounded_members` (members whose figures are DfE's rounded ones) and
-- `__members_without_figures` (DfE published a symbol and no return came) stay for the reconciliation.
final as (
    select
        *,
        {{ workforce_rates_from_parts() }}
    from summed
)

select * from final
