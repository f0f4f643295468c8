"""Uptime and error budgets: availability over the SLO period, burn rates, and multiwindow burn-rate alerts.

- :mod:`opsctl.slo.budget`: the arithmetic (availability, budget total / spent / remaining, burn rate);
- :mod:`opsctl.slo.alerts`: the multiwindow, multi-burn-rate rules of the Google SRE workbook;
- :mod:`opsctl.slo.counts`, :mod:`opsctl.slo.prometheus`, :mod:`opsctl.slo.alb`: good vs bad request
  counts from Prometheus counters or CloudWatch ALB metrics; :mod:`opsctl.slo.sources` picks one;
- :mod:`opsctl.slo.status`: one environment's figures now (what ``opsctl slo`` and the policy gate read);
- :mod:`opsctl.slo.periods`: budget spent per past period (what ``opsctl report`` shows).
"""
