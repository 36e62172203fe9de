{#-
    Where DuckDB (the embedded default) and PostgreSQL (the shared deployment) differ, the models
    call one of these, and dbt dispatches it to the engine's version. Everything else the models
    write is SQL both engines read the same way (README, "Changing things": what to avoid).
-#}

{#- A whole number of any size, exact: the numerators and denominators of rates in steps. -#}
{% macro exact_integer() -%}
    {{ return(adapter.dispatch('exact_integer', 'workforce')()) }}
{%- endmacro %}

{% macro duckdb__exact_integer() -%}hugeint{%- endmacro %}

{% macro default__exact_integer() -%}numeric{%- endmacro %}

{#- a / b rounded towards zero, for two whole numbers. -#}
{% macro integer_divide(a, b) -%}
    {{ return(adapter.dispatch('integer_divide', 'workforce')(a, b)) }}
{%- endmacro %}

{% macro duckdb__integer_divide(a, b) -%}divide({{ a }}, {{ b }}){%- endmacro %}

{% macro default__integer_divide(a, b) -%}div({{ a }}, {{ b }}){%- endmacro %}

{#- The number a text holds, or NULL when it holds none (DfE's symbols, blanks). -#}
{% macro number_or_null(text) -%}
    {{ return(adapter.dispatch('number_or_null', 'workforce')(text)) }}
{%- endmacro %}

{% macro duckdb__number_or_null(text) -%}try_cast({{ text }} as double precision){%- endmacro %}

{% macro default__number_or_null(text) -%}
    case
        when {{ text }} ~ '^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
            then cast({{ text }} as double precision)
    end
{%- endmacro %}

{#- A date written day/month/year ('30/09/2024'), as DfE's code lists write them. -#}
{% macro date_from_dmy(text) -%}
    {{ return(adapter.dispatch('date_from_dmy', 'workforce')(text)) }}
{%- endmacro %}

{% macro duckdb__date_from_dmy(text) -%}cast(strptime({{ text }}, '%d/%m/%Y') as date){%- endmacro %}

{% macro default__date_from_dmy(text) -%}to_date({{ text }}, 'DD/MM/YYYY'){%- endmacro %}

{#-
    The median of `expression` over the rows `condition` keeps, exact for decimals: the mean of
    the two middle values when there are an even number. PostgreSQL's percentile_cont takes only
    doubles, so there it is the mean of the lower and upper middle values, which is the same.
-#}
{% macro exact_median(expression, condition='true') -%}
    {{ return(adapter.dispatch('exact_median', 'workforce')(expression, condition)) }}
{%- endmacro %}

{% macro duckdb__exact_median(expression, condition) -%}
    median({{ expression }}) filter (where {{ condition }})
{%- endmacro %}

{% macro default__exact_median(expression, condition) -%}
    (
        percentile_disc(0.5) within group (order by {{ expression }}) filter (where {{ condition }})
        + percentile_disc(0.5) within group (order by {{ expression }} desc) filter (where {{ condition }})
    ) / 2
{%- endmacro %}

{#- `list` without the elements equal to `value`, in their order. -#}
{% macro list_without(list, value) -%}
    {{ return(adapter.dispatch('list_without', 'workforce')(list, value)) }}
{%- endmacro %}

{% macro duckdb__list_without(list, value) -%}list_filter({{ list }}, element -> element != {{ value }}){%- endmacro %}

{% macro default__list_without(list, value) -%}array_remove({{ list }}, {{ value }}){%- endmacro %}

{#-
    `columns` of `relation` as rows: `cross join lateral` this to get one row per column, with the
    column's name in `measure` and its value (NULL included) in `value_column`. DuckDB's UNPIVOT
    does this in one word; PostgreSQL has none, and a lateral VALUES list reads the same in both.
    No columns (only when dbt renders SQL without a database, as sqlfluff does) give one NULL row.
-#}
{% macro unpivot_columns(relation, columns, value_column) -%}
    (
        values
        {%- for column in columns %}
        ('{{ column }}', {{ relation }}.{{ adapter.quote(column) }}){{ "," if not loop.last }}
        {%- else %}
        (cast(null as varchar), null)
        {%- endfor %}
    ) as unpivoted (measure, {{ value_column }})
{%- endmacro %}

{#-
    Run before each model (dbt_project.yml, +pre-hook). PostgreSQL's planner takes a CTE used twice
    or a lateral VALUES unpivot to hold a handful of rows where it holds thousands, and then joins
    by nested loops: fct_workforce_benchmarks took 29 s at England's volume, 3.8 s with nested loops
    off. The build reads whole tables, which hash and merge joins suit; the setting lasts for the
    model's own transaction only.
-#}
{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings', 'workforce')()) }}
{%- endmacro %}

{% macro postgres__planner_settings() -%}set local enable_nestloop = off{%- endmacro %}

{% macro default__planner_settings() -%}{%- endmacro %}
