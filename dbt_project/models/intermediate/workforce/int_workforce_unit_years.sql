-- Every reporting unit in every collection year with its 22 DfE measures: computed from its
-- council return when one is loaded, otherwise DfE's published figures, so an LA without a
-- return is still benchmarked. DfE's symbol for a cell travels with it whatever the source: a
-- recomputed value keeps the `u` DfE published in its place. `return_status` says what happened
-- to the latest file the council sent, and the return_* columns which file the figures come
-- from and why (the load history in raw_csww).
with

units as (
    select * from {{ ref('int_reporting_units_by_year') }}
),

returned as (
    select * from {{ ref('int_workforce_counts__returns') }}
),

returns as (
    select * from {{ ref('stg_csww__returns') }}
),

published as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level = 'Local authority'
),

load_history as (
    select * from {{ ref('stg_csww__load_history') }}
    where load_status in ('loaded', 'quarantined', 'unchanged')
),

unit_members as (
    select
        time_period,
        reporting_unit_code,
        unnest(member_old_la_codes) as member_old_la_code
    from units
),

-- The latest file any member council sent for the unit-year (a joint return may come under
-- either member's code).
attempts as (
    select
        unit_members.time_period,
        unit_members.reporting_unit_code,
        load_history.load_status,
        load_history.file_sha256,
        load_history.loaded_at,
        load_history.error_count,
        row_number() over (
            partition by unit_members.time_period, unit_members.reporting_unit_code
            order by load_history.loaded_at desc
        ) as attempt_recency
    from unit_members
    inner join load_history
        on
            unit_members.member_old_la_code = load_history.old_la_code
            and unit_members.time_period = load_history.collection_year
),

latest_attempt as (
    select
        time_period,
        reporting_unit_code,
        load_status,
        file_sha256,
        loaded_at,
        error_count
    from attempts
    where attempt_recency = 1
),

published_wide as (
    select
        time_period,
        area_code as reporting_unit_code,
        {%- for measure in workforce_measure_columns() %}
        max(published_value) filter (where measure = '{{ measure }}') as {{ measure }},
        {%- endfor %}
        string_agg(
            measure || ' ' || suppression_reason, '; ' order by measure
        ) filter (where suppression_reason is not null) as suppression_notes
    from published
    group by time_period, area_code
),

returned_with_rates as (
    select
        returned.time_period,
        returned.reporting_unit_code,
        returns.source_file,
        returns.file_sha256,
        returns.loaded_at,
        returns.header_generated_at,
        returns.is_synthetic,
        {%- for count in workforce_count_columns() %}
        returned.{{ count }},
        {%- endfor %}
        {{ workforce_rates() }}
    from returned
    inner join returns
        on returned.return_la_code = returns.old_la_code and returned.time_period = returns.collection_year
),

final as (
    select
        units.time_period,
        units.reporting_unit_code,
        units.member_old_la_codes,
        units.lead_old_la_code,
        units.is_joint_return,
        units.new_la_code,
        units.la_name,
        units.region_code,
        units.region_name,
        units.sub_region_code,
        units.sub_region_name,
        case when returned_with_rates.reporting_unit_code is not null then 'council_return' else 'dfe_published' end
            as source,
        case
            when latest_attempt.load_status = 'quarantined' then 'quarantined'
            when latest_attempt.load_status is not null then 'loaded'
            else 'not_received'
        end as return_status,
        returned_with_rates.source_file as return_source_file,
        returned_with_rates.file_sha256 as return_file_sha256,
        returned_with_rates.loaded_at as return_loaded_at,
        returned_with_rates.header_generated_at as return_generated_at,
        coalesce(returned_with_rates.is_synthetic, false) as is_synthetic,
        case
            when latest_attempt.load_status = 'quarantined' then latest_attempt.file_sha256
        end as quarantined_file_sha256,
        case
            when returned_with_rates.reporting_unit_code is null and latest_attempt.load_status = 'quarantined'
                then
                    'The council''s return (received '
                    || cast(cast(latest_attempt.loaded_at as date) as varchar)
                    || ') failed validation with '
                    || latest_attempt.error_count
                    || ' error(s) and no earlier return is loaded: DfE''s published figures are used.'
            when returned_with_rates.reporting_unit_code is null
                then 'No return loaded: DfE''s published figures are used.'
            when latest_attempt.load_status = 'quarantined'
                then
                    'A later return (received '
                    || cast(cast(latest_attempt.loaded_at as date) as varchar)
                    || ') failed validation with '
                    || latest_attempt.error_count
                    || ' error(s) and was quarantined, so the return loaded on '
                    || cast(cast(returned_with_rates.loaded_at as date) as varchar)
                    || ' is used.'
            else
                'The latest return the council sent, loaded on '
                || cast(cast(returned_with_rates.loaded_at as date) as varchar)
                || '.'
        end as return_note,
        {%- for measure in workforce_measure_columns() %}
        case
            when returned_with_rates.reporting_unit_code is not null then returned_with_rates.{{ measure }}
            else published_wide.{{ measure }}
        end as {{ measure }},
        {%- endfor %}
        published_wide.suppression_notes
    from units
    left join returned_with_rates
        on
            units.time_period = returned_with_rates.time_period
            and units.reporting_unit_code = returned_with_rates.reporting_unit_code
    left join published_wide
        on
            units.time_period = published_wide.time_period
            and units.reporting_unit_code = published_wide.reporting_unit_code
    left join latest_attempt
        on
            units.time_period = latest_attempt.time_period
            and units.reporting_unit_code = latest_attempt.reporting_unit_code
)

select * from final
