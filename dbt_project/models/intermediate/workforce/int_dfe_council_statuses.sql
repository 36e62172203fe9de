-- DfE's symbol for each council cell it published no number for, with its meaning and whether a
-- recomputed value under it is still ranked (`vars: dfe_symbols:` in dbt_project.yml).
with

published as (
    select * from {{ ref('int_dfe_indicator_values__latest') }}
    where geographic_level = 'Local authority' and published_value is null
),

final as (
    select
        time_period,
        area_code as reporting_unit_code,
        measure,
        published_text as dfe_status,
        suppression_reason as dfe_status_reason,
        {{ dfe_symbol_is_ranked('published_text') }} as is_ranked_under_status
    from published
    where {{ dfe_symbol_reason('published_text') }} is not null
)

select * from final
