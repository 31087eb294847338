-- One row per customer with any order up to as_of_date: facts, RFM scores and segments, SmartRFM
-- cell, lifecycle status, value tier, preferences, intent signals and consent, under a contract.

with

profiled as (

    select * from {{ ref('int_customers_profiled') }}

)

{{ select_contract_columns('profiled') }}
