"""Workload: split, parse and pretty-format a migration-sized SQL script, as a SQL linter does."""

import sqlparse

STATEMENTS = []
for i in range(60):
    STATEMENTS.append(
        f"select u.id, u.name, count(o.id) as orders_{i}, sum(o.total) from users u "
        f"left join orders o on o.user_id = u.id and o.status in ('paid', 'shipped') "
        f"where u.created_at > '2020-01-{i % 28 + 1:02d}' and (u.flag = {i} or u.name like 'a%') "
        f"group by u.id, u.name having count(o.id) > {i % 5} order by 3 desc limit {i + 10};"
    )
    STATEMENTS.append(f"insert into audit (id, who, what) values ({i}, 'user{i}', 'update t{i}');")
    STATEMENTS.append(
        f"update items set price = price * 1.{i % 9}, note = 'x{i}' where id = {i} and stock > 0;"
    )
SCRIPT = "\n".join(STATEMENTS)

for _ in range(6):
    parsed = sqlparse.parse(SCRIPT)
    pretty = sqlparse.format(SCRIPT, reindent=True, keyword_case="upper")
    split = sqlparse.split(SCRIPT)
print(len(parsed), len(pretty), len(split))
