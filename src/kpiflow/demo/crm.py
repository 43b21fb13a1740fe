"""CRM: inbound leads owned by sales managers, their first response, follow-ups, and the orders they win.

A lead is created during opening hours, answered after a delay that depends on the manager's speed, and
won with a probability that depends on the manager's skill (and drops when the answer was slow). How many times
an open lead is followed up depends on the manager's diligence (0 to 1, 0 to 6 later contacts), so managers
differ the way real ones do rather than all doing the same number. A won
lead places its order the same day; if the goods were out of stock the order never happens and the lead
keeps no `won_order_id`. Follow-ups fall on the next days, so an activity row depends only on leads of
earlier days.
"""

from __future__ import annotations

from kpiflow.demo.sqlkit import Step

LEADS = Step(
    "t_leads",
    """
with store_days as (
    select
        m.store_id, m.is_online, d.dt,
        m.base_orders_per_day * season(d.dt) * weekday_factor(d.dt, m.is_online) * trend(d.dt) * 0.2
            as expected_leads
    from t_store_model m cross join t_work_days d
), expanded as (
    select store_id, is_online, dt,
           unnest(range(floor(expected_leads + rnd('lead_count', store_id, dt, 0))::int)) as lead_no
    from store_days
), owned as (
    select e.*, s.employee_id as owner_employee_id
    from expanded e
    join (select distinct store_id, dt, manager_count from t_sellers where manager_count > 0) c
      on c.store_id = e.store_id and c.dt = e.dt
    join t_sellers s
      on s.store_id = e.store_id and s.dt = e.dt and s.job_role = 'sales_manager'
     and s.manager_no = 1 + floor(rnd('lead_owner', e.store_id, e.dt, e.lead_no) * c.manager_count)::int
), timed as (
    select
        o.*,
        o.dt::timestamp + to_seconds(floor(28800 + rnd('lead_created', store_id, dt, lead_no) * 39600)::bigint)
            as created_ts,
        rnd('lead_responded', store_id, dt, lead_no) < 0.96 as is_responded,
        floor(60 * exp(ln(20.0) + 1.2 * rnorm('lead_delay', store_id, dt, lead_no)
                       + 0.5 * rnorm('manager_speed', owner_employee_id, 0, 0)))::bigint as delay_seconds,
        rnd('lead_win', store_id, dt, lead_no) as win_draw,
        rnd('lead_source', store_id, dt, lead_no) as source_draw
    from owned o
), answered as (
    select
        *,
        case when is_responded
             then least(created_ts + to_seconds(delay_seconds), dt::timestamp + interval 23 hour + interval 59 minute)
        end as first_response_ts,
        is_responded and win_draw < 0.10 + 0.20 * rnd('manager_skill', owner_employee_id, 0, 0)
                                    - case when delay_seconds > 14400 then 0.05 else 0.0 end as is_won
    from timed
)
select
    a.store_id, a.is_online, a.dt, a.lead_no, a.owner_employee_id, a.created_ts, a.first_response_ts, a.is_won,
    event_id(a.dt, row_number() over (partition by a.dt order by a.created_ts, a.store_id, a.lead_no)) as lead_id,
    case when a.is_online then
        case when source_draw < 0.40 then 'web_form' when source_draw < 0.70 then 'chat'
             when source_draw < 0.85 then 'marketplace' when source_draw < 0.95 then 'phone' else 'referral' end
    else
        case when source_draw < 0.25 then 'walk_in' when source_draw < 0.50 then 'phone'
             when source_draw < 0.80 then 'web_form' when source_draw < 0.95 then 'referral' else 'marketplace' end
    end as source,
    case when a.is_won
         then least(a.first_response_ts + to_seconds(900 + floor(rnd('lead_order_time', a.store_id, a.dt, a.lead_no)
                                                                 * 8100)::bigint),
                    a.dt::timestamp + interval 23 hour + interval 59 minute + interval 30 second)
    end as won_order_ts,
    case when a.is_won and sd.customers_before > 0
         then 'C' || lpad((1 + floor(rnd('lead_customer', a.store_id, a.dt, a.lead_no) * sd.customers_before))
                          ::bigint::varchar, 8, '0')
    end as customer_id
from answered a
join t_signup_days sd using (dt)
""",
)

CRM_LEADS = Step(
    "crm_leads",
    """
select
    l.lead_id,
    l.created_ts,
    l.owner_employee_id,
    l.first_response_ts,
    l.source,
    o.order_id as won_order_id,
    l.store_id
from t_leads l
left join t_orders o on o.origin = 'lead' and o.origin_key = l.store_id and o.origin_no = l.lead_no and o.dt = l.dt
where l.dt >= $first_day
""",
    emitted=True,
    order_by="lead_id",
)

CRM_ACTIVITIES = Step(
    "crm_activities",
    """
with first_contacts as (
    select
        lead_id, owner_employee_id as employee_id, 0 as step_no, 'call' as activity_type,
        first_response_ts as activity_ts,
        case when is_won then 'agreement'
             when rnd('first_call', lead_id, 0, 0) < 0.35 then 'interested'
             when rnd('first_call', lead_id, 0, 0) < 0.60 then 'callback'
             when rnd('first_call', lead_id, 0, 0) < 0.85 then 'no_answer'
             else 'not_interested' end as outcome
    from t_leads
    where first_response_ts is not null
), later as (
    select
        lead_id, owner_employee_id as employee_id, dt, is_won,
        unnest(range(1, 1 + case when is_won then 1
                                 else floor(rnd('follow_ups', lead_id, 0, 0)
                                            * (2 + 5 * rnd('manager_diligence', owner_employee_id, 0, 0)))::int
                            end))
            as step_no
    from t_leads
    where first_response_ts is not null
), later_typed as (
    select
        lead_id, employee_id, step_no,
        case when is_won then 'follow_up'
             when rnd('follow_up_type', lead_id, step_no, 0) < 0.50 then 'follow_up'
             when rnd('follow_up_type', lead_id, step_no, 0) < 0.80 then 'email'
             else 'meeting' end as activity_type,
        (dt + (step_no * (1 + floor(rnd('follow_up_gap', lead_id, step_no, 0) * 3)))::int)::timestamp
            + to_seconds(floor(32400 + rnd('follow_up_time', lead_id, step_no, 0) * 32400)::bigint) as activity_ts,
        is_won,
        rnd('follow_up_outcome', lead_id, step_no, 0) as outcome_draw
    from later
), follow_ups as (
    select
        lead_id, employee_id, step_no, activity_type, activity_ts,
        case when is_won then 'completed'
             when activity_type = 'email' then 'sent'
             when activity_type = 'meeting'
                 then case when outcome_draw < 0.6 then 'interested' else 'not_interested' end
             when outcome_draw < 0.4 then 'callback'
             when outcome_draw < 0.75 then 'no_answer'
             else 'not_interested' end as outcome
    from later_typed
), activities as (
    select * from first_contacts
    union all
    select * from follow_ups
), kept as (
    select a.*, a.activity_ts::date as activity_date
    from activities a
    join t_people p
      on p.employee_id = a.employee_id
     and a.activity_ts::date >= p.hire_date and a.activity_ts::date < p.termination_date
    where a.activity_ts::date between $first_day and $last_day
)
select
    event_id(activity_date, row_number() over (partition by activity_date order by activity_ts, lead_id, step_no))
        as activity_id,
    employee_id,
    lead_id,
    activity_ts,
    activity_type,
    outcome
from kept
""",
    emitted=True,
    order_by="activity_id",
)
