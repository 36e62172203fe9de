-- A failure means a table or view in the marts schema, which analysts and peer extracts read,
-- carries a worker-level column from the council returns (a pseudonymised SWE number, birth month,
-- sex, ethnicity, absence reason, role dates ...). Worker-level data must stay in the sensitive
-- schema; marts expose aggregates only. The list of worker-level columns is every column of
-- stg_csww__workers except the return's identifiers and provenance, so a new worker field is
-- covered as soon as it is staged.
{{ config(meta={'dagster': {'ref': {'name': 'fct_workforce_indicators'}}}) }}
-- Run after every mart is built, so each is inspected:
-- depends_on: {{ ref('fct_workforce_benchmarks') }}
-- depends_on: {{ ref('fct_inspections') }}
-- depends_on: {{ ref('dim_local_authorities') }}
-- depends_on: {{ ref('fct_published_reconciliation') }}
-- depends_on: {{ ref('fct_statistical_neighbour_values') }}

{%- set marts = ref('fct_workforce_indicators') %}
{%- set workers = ref('stg_csww__workers') %}

with

worker_columns as (
    select column_name
    from information_schema.columns
    where
        table_catalog = '{{ workers.database }}'
        and table_schema = '{{ workers.schema }}'
        and table_name = '{{ workers.identifier }}'
        and column_name not in ('old_la_code', 'collection_year', 'source_file', 'file_sha256')
),

mart_columns as (
    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where
        table_catalog = '{{ marts.database }}'
        and table_schema = '{{ marts.schema }}'
)

select
    mart_columns.table_schema,
    mart_columns.table_name,
    mart_columns.column_name
from mart_columns
where
    mart_columns.column_name in (select worker_columns.column_name from worker_columns)
    -- The two columns that identify a person are banned even if staging renames them.
    or mart_columns.column_name in ('swe_pseudonym', 'birth_month')
