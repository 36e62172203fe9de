-- Use the configured schema name as it is (raw_csww, sensitive, marts ...), not prefixed with the
-- target schema: analysts query marts.fct_workforce_indicators, not main_marts.fct_...
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
