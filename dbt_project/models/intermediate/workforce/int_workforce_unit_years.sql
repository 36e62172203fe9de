-- Every reporting unit in every collection year with its 22 DfE measures: computed from its
-- council return when one is loaded, otherwise DfE's published figures, so an LA without a
-- return is still benchmarked. `return_status` says what happened to the latest file it sent.
with

units as (
    select * from {{ ref('int_reporting_units_by_year') }}
),

returned as (
    select * from {{ ref('int_workforce_counts__returns') }}
),

published as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level = 'Local authority'
),

load_history as (
    select * from {{ ref('stg_csww__load_history') }}
    where load_status in ('loaded', 'quarantined')
),

latest_attempt as (
    select
        old_la_code,
        collection_year,
        load_status
    from load_history
    qualify row_number() over (partition by old_la_code, collection_year order by loaded_at desc) = 1
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
        time_period,
        reporting_unit_code,
        return_la_code,
        {%- for count in workforce_count_columns() %}
        {{ count }},
        {%- endfor %}
        {{ workforce_rates() }}
    from returned
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
            when latest_attempt.load_status = 'loaded' then 'loaded'
            else 'not_received'
        end as return_status,
        {%- for measure in workforce_measure_columns() %}
        case
            when returned_with_rates.reporting_unit_code is not null then returned_with_rates.{{ measure }}
            else published_wide.{{ measure }}
        end as {{ measure }},
        {%- endfor %}
        case when returned_with_rates.reporting_unit_code is null then published_wide.suppression_notes end
            as suppression_notes
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
            units.time_period = latest_attempt.collection_year
            and units.lead_old_la_code = latest_attempt.old_la_code
)

select * from final
