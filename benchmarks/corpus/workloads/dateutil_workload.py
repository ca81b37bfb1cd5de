"""Workload: parse free-form and ISO date strings, compute relativedeltas and expand rrules."""

import datetime

from dateutil import parser, relativedelta, rrule

MONTHS = [
    "Jan",
    "February",
    "Mar",
    "April",
    "May",
    "Jun",
    "July",
    "Aug",
    "Sept",
    "Oct",
    "Nov",
    "December",
]
FREE_FORM = (
    [
        f"{MONTHS[i % 12]} {i % 28 + 1}, {1990 + i % 30} {i % 24}:{i % 60:02d}:{i * 7 % 60:02d}"
        for i in range(4500)
    ]
    + [
        f"{2000 + i % 25}-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:30:00+02:00"
        for i in range(4500)
    ]
    + [
        f"Thu, {i % 28 + 1} {MONTHS[i % 12][:3]} {2001 + i % 20} 10:{i % 60:02d} GMT"
        for i in range(3000)
    ]
)
ISO = [
    f"{2000 + i % 25}-{i % 12 + 1:02d}-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:05.123"
    for i in range(12000)
]

for _ in range(2):
    parsed = [parser.parse(text) for text in FREE_FORM]
    iso = [parser.isoparse(text) for text in ISO]
base = datetime.datetime(2020, 1, 31)
deltas = [
    base + relativedelta.relativedelta(months=+i, weekday=relativedelta.FR(-1)) for i in range(9000)
]
rule = rrule.rrule(rrule.WEEKLY, byweekday=(rrule.MO, rrule.WE), dtstart=base, count=9000)
print(len(parsed), len(iso), len(deltas), len(list(rule)))
