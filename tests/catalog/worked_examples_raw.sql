-- Raw rows that reproduce the articles' worked examples (shared/reference). Each example lives in its own store
-- (and, for inventory balances, its own period), so the examples cannot disturb one another.
create schema raw;

create table raw.stores as select * from (values
  ('S_YOY',  'YoY store',          'physical', 'R1', 'C', 1000, 1200, date '2010-01-01'),
  ('S_PEL',  'QoQ/YoY store',      'physical', 'R1', 'C', 1000, 1200, date '2010-01-01'),
  ('S_SQFT', 'Sq ft store',        'physical', 'R2', 'C',  500,  700, date '2010-01-01'),
  ('S_CONV', 'Conversion store',   'physical', 'R2', 'C', 1000, 1200, date '2010-01-01'),
  ('S_CNV2', 'Conversion store 2', 'physical', 'R2', 'C', 1000, 1200, date '2010-01-01'),
  ('S_COGS', 'Periodic COGS',      'physical', 'R3', 'C', 1000, 1200, date '2010-01-01'),
  ('S_TURN', 'Turnover store',     'physical', 'R3', 'C', 1000, 1200, date '2010-01-01'),
  ('S_SELL', 'Sell-through store', 'physical', 'R3', 'C', 1000, 1200, date '2010-01-01'),
  ('S_SHR',  'Shrinkage store',    'physical', 'R3', 'C', 1000, 1200, date '2010-01-01'),
  ('S_AOV',  'AOV store',          'physical', 'R4', 'C', 1000, 1200, date '2010-01-01'),
  ('S_BSK',  'Basket store',       'physical', 'R4', 'C', 1000, 1200, date '2010-01-01'),
  ('S_GP',   'Gross profit store', 'physical', 'R4', 'C', 1000, 1200, date '2010-01-01'),
  ('S_NP',   'Net profit store',   'physical', 'R4', 'C', 1000, 1200, date '2010-01-01'),
  ('S_RET',  'Retention store',    'online',   'R5', null, null, null, date '2010-01-01'),
  ('S_HR',   'HR store',           'physical', 'R5', 'C', 1000, 1200, date '2010-01-01'),
  ('S_MKT',  'Marketer store',     'online',   'R6', null, null, null, date '2010-01-01')
) t(store_id, store_name, store_type, region, city, selling_area_sqft, total_area_sqft, opened_on);

-- P1 costs 0 (revenue-only examples), P2 costs 4 per unit (TC-10 COGS), P3 costs 10 (inventory examples).
create table raw.products as select * from (values
  ('P1', 'SKU1', 'Revenue unit', 'cat_a', 0.00::decimal(12,2), 1.00::decimal(12,2)),
  ('P2', 'SKU2', 'Costed unit',  'cat_b', 4.00, 10.00),
  ('P3', 'SKU3', 'Stock unit',   'cat_c', 10.00, 20.00)
) t(product_id, sku, product_name, category, unit_cost, list_price);

create table raw.customers as
  select 'C' || lpad(cast(i as varchar), 4, '0') as customer_id, 'RET' as region, date '2016-01-01' as signup_date,
         'S_RET' as home_store_id
  from range(1, 261) r(i);

-- Orders: (store, first order id, count, day, amount per order as one line of P1 units at 1.00, or given lines).
create table order_plan as select * from (values
  -- TC-01 YoY: Q1 2022 = 400,000 and Q1 2023 = 500,000
  ('S_YOY', 1000000, 1, timestamp '2022-02-01 10:00', 400000, 'P1'),
  ('S_YOY', 1000001, 1, timestamp '2023-02-01 10:00', 500000, 'P1'),
  -- TC-01b: Q2 2022 = 1,290,000; Q1 2023 = 700,000; Q2 2023 = 903,000
  ('S_PEL', 1000010, 1, timestamp '2022-05-01 10:00', 1290000, 'P1'),
  ('S_PEL', 1000011, 1, timestamp '2023-02-01 10:00', 700000, 'P1'),
  ('S_PEL', 1000012, 1, timestamp '2023-05-01 10:00', 903000, 'P1'),
  -- TC-02/03: May 2023 net sales 40,000 with 500 sq ft selling area and 10 sales employees
  ('S_SQFT', 1000020, 1, timestamp '2023-05-10 10:00', 40000, 'P1'),
  -- TC-08: 2017 revenue 50,000 and COGS 16,000 (4,000 units of P2 at 12.50, cost 4)
  ('S_GP', 1000030, 1, timestamp '2017-06-01 10:00', 4000, 'P2'),
  -- TC-09: 2017 revenue 50,000, no COGS; 9,000 operating expenses
  ('S_NP', 1000040, 1, timestamp '2017-06-01 10:00', 50000, 'P1'),
  -- TC-10: 2020 COGS 40,000 (10,000 units of P2 at cost 4)
  ('S_TURN', 1000050, 1, timestamp '2020-06-01 10:00', 10000, 'P2'),
  -- TC-11: 400 units of P3 sold in March 2021
  ('S_SELL', 1000060, 1, timestamp '2021-03-15 10:00', 400, 'P3'),
  -- HR: an early order so that the data range starts in January 2016
  ('S_HR', 1000070, 1, timestamp '2016-01-01 09:00', 1, 'P1')
) t(store_id, first_order_id, orders, ordered_at, units, product_id);

create table raw.orders as
  select first_order_id as order_id, ordered_at as order_ts, store_id, 'store' as channel,
         cast(null as varchar) as customer_id, cast(null as varchar) as employee_id
  from order_plan
  union all
  -- TC-04: 2,000 orders against 5,000 visitors in June 2023; 54 orders against 1,000 visitors
  select 2000000 + i, timestamp '2023-06-01 10:00' + to_days(cast(i % 30 as integer)), 'S_CONV', 'store', null, null
  from range(2000) r(i)
  union all
  select 2100000 + i, timestamp '2023-06-05 10:00', 'S_CNV2', 'store', null, null from range(54) r(i)
  union all
  -- TC-06: 5,000 orders worth 150,000 in 2018
  select 3000000 + i, timestamp '2018-01-01 10:00' + to_days(cast(i % 365 as integer)), 'S_AOV', 'store', null, null
  from range(5000) r(i)
  union all
  -- TC-07: 3,000 orders with 5,000 units in Q2 2018
  select 4000000 + i, timestamp '2018-04-01 10:00' + to_days(cast(i % 91 as integer)), 'S_BSK', 'store', null, null
  from range(3000) r(i)
  union all
  -- TC-13: customers 1-200 buy in Q4 2016; in Q1 2017 customers 1-140 buy again and 201-260 buy first
  select 5000000 + i, timestamp '2016-11-01 10:00', 'S_RET', 'online', 'C' || lpad(cast(i as varchar), 4, '0'), null
  from range(1, 201) r(i)
  union all
  select 5100000 + i, timestamp '2017-02-01 10:00', 'S_RET', 'online', 'C' || lpad(cast(i as varchar), 4, '0'), null
  from range(1, 141) r(i)
  union all
  select 5200000 + i, timestamp '2017-02-01 10:00', 'S_RET', 'online', 'C' || lpad(cast(i as varchar), 4, '0'), null
  from range(201, 261) r(i)
  union all
  -- Marketer (DECISIONS rule 17): 30 of the marketer's 100 June leads are won by an order within 30 days
  select 9100000 + i, timestamp '2023-06-10 10:00', 'S_MKT', 'online', null, 'E_MKT' from range(30) r(i);

create table raw.order_lines as
  select first_order_id as order_id, 1 as line_no, product_id, cast(units as integer) as quantity,
         cast(case when store_id = 'S_GP' then 12.50 when product_id = 'P1' then 1.00
                   else 20.00 end as decimal(12,2)) as unit_price,
         0.00::decimal(12,2) as discount_amount,
         (select unit_cost from raw.products p where p.product_id = order_plan.product_id) as unit_cost
  from order_plan
  union all
  select 2000000 + i, 1, 'P1', 1, 10.00, 0.00, 0.00 from range(2000) r(i)
  union all
  select 2100000 + i, 1, 'P1', 1, 10.00, 0.00, 0.00 from range(54) r(i)
  union all
  select 3000000 + i, 1, 'P1', 1, 30.00, 0.00, 0.00 from range(5000) r(i)
  union all
  select 4000000 + i, 1, 'P1', case when i < 2000 then 2 else 1 end, 1.00, 0.00, 0.00 from range(3000) r(i)
  union all
  select order_id, 1, 'P1', 1, 5.00, 0.00, 0.00 from raw.orders where store_id = 'S_RET'
  union all
  select 9100000 + i, 1, 'P1', 1, 10.00, 0.00, 0.00 from range(30) r(i);

create table raw.returns (return_id bigint, order_id bigint, line_no integer, return_ts timestamp, quantity integer,
                          refund_amount decimal(12,2));

create table raw.store_traffic as
  select 'S_CONV' as store_id, cast(date '2023-06-01' + to_days(cast(i as integer)) as date) as traffic_date,
         cast(case when i < 20 then 167 else 166 end as integer) as visitors
  from range(30) r(i)
  union all
  select 'S_CNV2', date '2023-06-05', 1000;

create table raw.inventory_snapshots as select * from (values
  -- TC-05: 20,000 at the start of 2019, 15,000 at its end (P3 at cost 10)
  (date '2018-12-31', 'S_COGS', 'P3', 2000, 10.00::decimal(12,2)),
  (date '2019-01-01', 'S_COGS', 'P3', 2000, 10.00),
  (date '2019-12-31', 'S_COGS', 'P3', 1500, 10.00),
  -- TC-10: 4,000 at the start of 2020, 6,000 at its end
  (date '2019-12-31', 'S_TURN', 'P3', 400, 10.00),
  (date '2020-01-01', 'S_TURN', 'P3', 400, 10.00),
  (date '2020-12-31', 'S_TURN', 'P3', 600, 10.00),
  -- TC-11: 600 units on hand when March 2021 starts
  (date '2021-02-28', 'S_SELL', 'P3', 600, 10.00),
  (date '2021-03-01', 'S_SELL', 'P3', 600, 10.00),
  (date '2021-03-31', 'S_SELL', 'P3', 200, 10.00)
) t(snapshot_date, store_id, product_id, units_on_hand, unit_cost);

-- TC-05: 50,000 of purchases at cost during 2019
create table raw.inventory_receipts as select * from (values
  (1, date '2019-06-01', 'S_COGS', 'P3', 3000, 10.00::decimal(12,2)),
  (2, date '2019-09-01', 'S_COGS', 'P3', 2000, 10.00)
) t(receipt_id, received_on, store_id, product_id, quantity, unit_cost);

-- TC-12: book 3,000 against 2,500 counted
create table raw.inventory_counts as select * from (values
  (date '2021-06-30', 'S_SHR', 'P3', 300, 250, 10.00::decimal(12,2))
) t(count_date, store_id, product_id, book_units, counted_units, unit_cost);

-- TC-03: 10 sales employees at S_SQFT; HR turnover: 150 at S_HR, 18 of whom leave on 2016-04-15 and are
-- replaced the same day, so April's average headcount stays 150 while 18 terminate (18 / 150 = 12%).
create table raw.employees as
  select 'E_SQ' || cast(i as varchar) as employee_id, 'S_SQFT' as store_id, 'sales' as department,
         'sales_associate' as job_role, date '2016-01-01' as hire_date, cast(null as date) as termination_date,
         cast(null as varchar) as termination_reason, 3000.00::decimal(12,2) as monthly_base_pay,
         500.00::decimal(12,2) as monthly_variable_pay
  from range(10) r(i)
  union all
  select 'E_HR' || cast(i as varchar), 'S_HR', 'operations', 'cashier', date '2015-06-01',
         case when i < 18 then date '2016-04-15' end, case when i < 18 then 'resignation' end, 2500.00, 0.00
  from range(150) r(i)
  union all
  select 'E_NEW' || cast(i as varchar), 'S_HR', 'operations', 'cashier', date '2016-04-15', null, null, 2500.00, 0.00
  from range(18) r(i)
  union all
  -- The marketer of DECISIONS rule 17: fixed 560, variable 240
  select 'E_MKT', 'S_MKT', 'marketing', 'marketer', date '2023-01-01', null, null, 560.00, 240.00;

create table raw.employee_assignments as
  select employee_id, store_id, hire_date as valid_from,
         cast(termination_date - 1 as date) as valid_to
  from raw.employees;

create table raw.absences (employee_id varchar, absence_date date, hours decimal(4,1), absence_type varchar);
create table raw.job_applications (application_id bigint, requisition_id varchar, department varchar, job_role varchar,
                                   applied_on date, is_qualified boolean, hired_on date, hired_employee_id varchar);
create table raw.trainings (employee_id varchar, course_id varchar, course_name varchar, completed_on date,
                            pre_score integer, post_score integer, passed boolean);
-- Marketer: 100 leads in June 2023; 22 answered within the hour (22%), 30 won within 30 days (30%); 100 calls of
-- which 17 reached an agreement (17%).
create table raw.crm_leads as
  select cast(9000000 + i as bigint) as lead_id, timestamp '2023-06-05 09:00' as created_ts,
         'E_MKT' as owner_employee_id,
         timestamp '2023-06-05 09:00' + case when i < 22 then interval 30 minute else interval 3 hour end
             as first_response_ts,
         'web' as source, case when i < 30 then cast(9100000 + i as bigint) end as won_order_id, 'S_MKT' as store_id
  from range(100) r(i);
create table raw.crm_activities as
  select cast(9200000 + i as bigint) as activity_id, 'E_MKT' as employee_id, cast(9000000 + i as bigint) as lead_id,
         timestamp '2023-06-06 10:00' as activity_ts, 'call' as activity_type,
         case when i < 17 then 'agreement' else 'callback' end as outcome
  from range(100) r(i);

-- TC-09: 9,000 of operating expenses in 2017
create table raw.expenses as select * from (values
  (date '2017-03-01', 'S_NP', 'rent', 9000.00::decimal(12,2))
) t(expense_date, store_id, category, amount);

drop table order_plan;

-- Plans are raw input data (none in these examples: plan attainment has no value).
create table raw.sales_plans (employee_id varchar, month_start date, plan_net_revenue decimal(14,2));
create table raw.store_plans (store_id varchar, month_start date, plan_net_revenue decimal(14,2));
