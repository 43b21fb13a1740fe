"""Employees: positions per store, the people who fill them over time, and what happens to them.

Each store has positions (a store manager, sales managers, associates, cashiers...). A position is held
by a chain of people: each stays for an exponential tenure, then leaves (resignation, dismissal,
retirement) and is replaced after a short vacancy. The chain is computed for the whole horizon from the
seed, so the people of any day are the same whatever the warehouse's end; the tables only reveal what
is known by that end (a termination after it is still NULL).
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

POSITIONS = Step(
    "t_positions",
    """
with roles(job_role, department, min_base, max_base, min_variable, max_variable, tenure_factor) as (
    values
        ('store_manager', 'sales', 5200, 6600, 1500, 2500, 1.8),
        ('sales_manager', 'sales', 3800, 4700, 1200, 2000, 1.2),
        ('sales_associate', 'sales', 2500, 3050, 200, 450, 0.9),
        ('customer_service_agent', 'sales', 2500, 2950, 150, 350, 0.9),
        ('cashier', 'operations', 2300, 2700, 100, 250, 0.8),
        ('stock_clerk', 'operations', 2300, 2800, 100, 250, 0.9),
        ('fulfilment_associate', 'operations', 2400, 2850, 100, 250, 0.9)
), headcount as (
    select store_id, store_no, is_online, 'store_manager' as job_role, 1 as positions from t_store_model
    union all
    select store_id, store_no, is_online, 'sales_manager',
           case when is_online then 4 else 2 + (size_factor > 1.2)::int end
    from t_store_model
    union all
    select store_id, store_no, is_online, 'sales_associate', 3 + round(size_factor * 2)::int
    from t_store_model where not is_online
    union all
    select store_id, store_no, is_online, 'cashier', 3 + round(size_factor * 2)::int
    from t_store_model where not is_online
    union all
    select store_id, store_no, is_online, 'stock_clerk', 2 + round(size_factor)::int
    from t_store_model where not is_online
    union all
    select store_id, store_no, is_online, 'customer_service_agent', 3 from t_store_model where is_online
    union all
    select store_id, store_no, is_online, 'fulfilment_associate', 6 from t_store_model where is_online
), expanded as (
    select h.store_id, h.store_no, h.is_online, h.job_role, unnest(range(h.positions)) as position_no
    from headcount h
)
select
    e.store_id || ':' || e.job_role || ':' || e.position_no as position_id,
    e.store_id, e.store_no, e.is_online, m.opened_on, e.job_role, r.department,
    r.min_base, r.max_base, r.min_variable, r.max_variable, r.tenure_factor
from expanded e join roles r using (job_role) join t_store_model m using (store_id)
""",
)

PEOPLE = Step(
    "t_people",
    """
with chain as (
    select
        p.*,
        t.k,
        case when t.k = 0 then 0 else 7 + floor(rnd('vacancy', p.position_id, t.k, 0) * 35)::int end as gap_days,
        case when t.k = 0 then 1 + floor(-ln(1.0 - rnd('tenure', p.position_id, t.k, 0)) * 1300 * p.tenure_factor)::int
             else 30 + floor(-ln(1.0 - rnd('tenure', p.position_id, t.k, 0)) * 1270 * p.tenure_factor)::int
        end as tenure_days
    from t_positions p
    cross join range(40) t(k)
), dated as (
    select
        *,
        sum(gap_days + tenure_days) over (partition by position_id order by k rows unbounded preceding) as days_to_end
    from chain
), people as (
    select
        *,
        case when k = 0
             then greatest(opened_on, ($meta_start - 1 - floor(rnd('prehire', position_id, 0, 0) * 2400)::int)::date)
             else ($meta_start + (days_to_end - tenure_days)::int)::date end as hire_date,
        ($meta_start + days_to_end::int)::date as termination_date
    from dated
), numbered as (
    select *, row_number() over (order by hire_date, position_id) as employee_no from people
)
select
    employee_no,
    'E' || lpad(employee_no::varchar, 5, '0') as employee_id,
    position_id,
    store_id as home_store_id,
    department,
    job_role,
    hire_date,
    termination_date,
    case when rnd('leave_reason', position_id, k, 0) < 0.68 then 'resignation'
         when rnd('leave_reason', position_id, k, 0) < 0.90 then 'dismissal'
         else 'retirement' end as termination_reason,
    case when not is_online and tenure_days > 180 and rnd('transfer', position_id, k, 0) < 0.08
         then (hire_date + floor(tenure_days * (0.3 + 0.4 * rnd('transfer_day', position_id, k, 0)))::int)::date
    end as transfer_date,
    'S' || lpad((1 + ((store_no - 1) + 1 + floor(rnd('transfer_store', position_id, k, 0) * ($n_physical - 1))::int)
                 % $n_physical)::varchar, 3, '0') as transfer_store_id,
    (round((min_base + rnd('base_pay', position_id, k, 0) * (max_base - min_base)) / 10) * 10)::decimal(12, 2)
        as monthly_base_pay,
    (round((min_variable + rnd('variable_pay', position_id, k, 0) * (max_variable - min_variable)) / 10) * 10)
        ::decimal(12, 2) as monthly_variable_pay
from numbered
""",
)

EMPLOYEES = Step(
    "employees",
    """
select
    employee_id,
    case when transfer_date <= $last_day then transfer_store_id else home_store_id end as store_id,
    department,
    job_role,
    hire_date,
    case when termination_date <= $last_day then termination_date end as termination_date,
    case when termination_date <= $last_day then termination_reason end as termination_reason,
    monthly_base_pay,
    monthly_variable_pay
from t_people
where hire_date <= $last_day
""",
    emitted=True,
    order_by="employee_id",
)

EMPLOYEE_ASSIGNMENTS = Step(
    "employee_assignments",
    """
select
    employee_id,
    home_store_id as store_id,
    hire_date as valid_from,
    case when transfer_date <= $last_day then transfer_date - 1
         when termination_date <= $last_day then termination_date - 1 end as valid_to
from t_people
where hire_date <= $last_day
union all
select
    employee_id,
    transfer_store_id as store_id,
    transfer_date as valid_from,
    case when termination_date <= $last_day then termination_date - 1 end as valid_to
from t_people
where transfer_date <= $last_day
""",
    emitted=True,
    order_by="employee_id, valid_from",
)

ABSENCE_DAYS = Step(
    "t_absences",
    """
with absent_days as (
    select p.employee_id, d.dt as absence_date
    from t_people p
    join t_work_days d on d.dt >= p.hire_date and d.dt < p.termination_date
    where rnd('absence', p.employee_id, d.dt, 0)
          < 0.022 * case when month(d.dt) in (1, 2) then 1.6 when month(d.dt) in (7, 8) then 1.3 else 1.0 end
)
select
    employee_id,
    absence_date,
    case when rnd('absence_hours', employee_id, absence_date, 0) < 0.80 then 8.0
         when rnd('absence_hours', employee_id, absence_date, 0) < 0.95 then 4.0
         else 2.0 end::decimal(4, 1) as hours,
    case when rnd('absence_type', employee_id, absence_date, 0) < 0.50 then 'sick'
         when rnd('absence_type', employee_id, absence_date, 0) < 0.80 then 'vacation'
         when rnd('absence_type', employee_id, absence_date, 0) < 0.92 then 'personal'
         else 'family' end as absence_type
from absent_days
""",
)

ABSENCES = Step(
    "absences",
    "select * from t_absences where absence_date >= $first_day",
    emitted=True,
    order_by="absence_date, employee_id",
)

SELLERS = Step(
    "t_sellers",
    """
with on_duty as (
    select
        d.dt,
        case when p.transfer_date <= d.dt then p.transfer_store_id else p.home_store_id end as store_id,
        p.employee_id,
        p.job_role
    from t_people p
    join t_work_days d on d.dt >= p.hire_date and d.dt < p.termination_date
    where p.job_role in ('store_manager', 'sales_manager', 'sales_associate')
      and not exists (
          select 1 from t_absences a
          where a.employee_id = p.employee_id and a.absence_date = d.dt and a.hours = 8
      )
)
select
    *,
    row_number() over (partition by store_id, dt order by employee_id) as seller_no,
    count(*) over (partition by store_id, dt) as seller_count,
    row_number() over (partition by store_id, dt, job_role = 'sales_manager' order by employee_id) as manager_no,
    count(*) filter (where job_role = 'sales_manager') over (partition by store_id, dt) as manager_count
from on_duty
""",
)

JOB_APPLICATIONS = Step(
    "job_applications",
    """
with requisitions as (
    select
        employee_no, employee_id, department, job_role, hire_date,
        'R' || lpad(employee_no::varchar, 5, '0') as requisition_id,
        (hire_date - (21 + floor(rnd('requisition_open', employee_id, 0, 0) * 40))::int)::date as opened_on,
        6 + floor(rnd('requisition_size', employee_id, 0, 0) * 18)::int as applicants
    from t_people
    where hire_date >= $meta_start
), applicants as (
    select *, unnest(range(1, applicants + 1)) as applicant_no
    from requisitions
    where opened_on <= $last_day
), dated as (
    select
        *,
        case when applicant_no = 1
             then greatest(opened_on, (hire_date - 3 - floor(rnd('applied', employee_id, 1, 0) * 10)::int)::date)
             else (opened_on + floor(rnd('applied', employee_id, applicant_no, 0)
                                     * greatest(1, datediff('day', opened_on, hire_date) - 2))::int)::date
        end as applied_on
    from applicants
)
select
    employee_no * 100 + applicant_no as application_id,
    requisition_id,
    department,
    job_role,
    applied_on,
    applicant_no = 1 or rnd('qualified', employee_id, applicant_no, 0) < 0.35 as is_qualified,
    case when applicant_no = 1 and hire_date <= $last_day then hire_date end as hired_on,
    case when applicant_no = 1 and hire_date <= $last_day then employee_id end as hired_employee_id
from dated
where applied_on between $meta_start and $last_day
""",
    emitted=True,
    order_by="application_id",
)

TRAININGS = Step(
    "trainings",
    """
with courses(course_id, course_name, audience, first_after_days, spread_days, repeat_days) as (
    values
        ('C01', 'Onboarding', 'all', 7, 23, 0),
        ('C02', 'Product knowledge', 'sales', 60, 60, 365),
        ('C03', 'Customer service excellence', 'frontline', 90, 110, 0),
        ('C04', 'Health and safety', 'all', 30, 30, 365),
        ('C05', 'Consultative selling', 'sellers', 120, 120, 365),
        ('C06', 'Leadership', 'managers', 180, 185, 730)
), eligible as (
    select p.employee_id, p.hire_date, p.termination_date, c.*
    from t_people p
    join courses c
      on c.audience = 'all'
      or (c.audience = 'sales' and p.department = 'sales')
      or (c.audience = 'frontline' and p.job_role in ('cashier', 'customer_service_agent', 'sales_associate'))
      or (c.audience = 'sellers' and p.job_role in ('sales_associate', 'sales_manager'))
      or (c.audience = 'managers' and p.job_role in ('store_manager', 'sales_manager'))
    where p.hire_date <= $last_day
), sessions as (
    select *, unnest(range(case when repeat_days = 0 then 1 else 20 end)) as session_no from eligible
), dated as (
    select
        employee_id, course_id, course_name, termination_date,
        (hire_date + first_after_days + floor(rnd('training_day', employee_id, course_id, 0) * spread_days)::int
         + (session_no * repeat_days)::int)::date as completed_on
    from sessions
), scored as (
    select
        *,
        35 + floor(rnd('pre_score', employee_id, course_id, completed_on) * 45)::int as pre_score,
        3 + floor(rnd('score_gain', employee_id, course_id, completed_on) * 35)::int as score_gain
    from dated
    where completed_on between $meta_start and $last_day and completed_on < termination_date
)
select
    employee_id,
    course_id,
    course_name,
    completed_on,
    pre_score,
    least(100, pre_score + score_gain) as post_score,
    least(100, pre_score + score_gain) >= 70 as passed
from scored
""",
    emitted=True,
    order_by="completed_on, employee_id, course_id",
)

STEPS = (
    POSITIONS,
    PEOPLE,
    EMPLOYEES,
    EMPLOYEE_ASSIGNMENTS,
    ABSENCE_DAYS,
    ABSENCES,
    SELLERS,
    JOB_APPLICATIONS,
    TRAININGS,
)
